#include "approve/approve_int.h"
int approve_approver_cli(int argc, char **argv) { (void)argc; (void)argv; return 2; }
int approve_cli(int argc, char **argv) { (void)argc; (void)argv; return 2; }
