/* placeholder: the inline prompt comes next */
#include "approve/approve_int.h"
