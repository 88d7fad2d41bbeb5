#!/bin/sh
# san: yes
# The delegate runs with the account's groups exactly as login would give them
# (initgroups), whatever their order: getgrouplist() lists the primary group
# first, the kernel keeps the list sorted, and the spawn's check of the switch
# compared the two in order — every account with a supplementary group
# numbered below its primary one (audio, sudo, docker...) could not start.
. "$(dirname "$0")/../lib.sh"
need_root
U=agentsh-groups
t_user $U || t_abort "cannot create test account $U"
# two groups of our own: one numbered below the account's primary group, one above
lo=agsh-glo hi=agsh-ghi
pg=$(id -g $U)
groupdel $lo 2>/dev/null
g=$((pg - 1))       # the highest free gid below the primary group
while [ $g -gt 100 ] && getent group $g >/dev/null; do g=$((g - 1)); done
groupadd -g $g $lo || t_abort "groupadd -g $g $lo"
getent group $hi >/dev/null || groupadd $hi || t_abort "groupadd $hi"
trap 'userdel -r $U >/dev/null 2>&1; groupdel $lo 2>/dev/null; groupdel $hi 2>/dev/null; t_cleanup' EXIT
usermod -aG "$hi,$lo" $U || t_abort "usermod"
glo=$(getent group $lo | cut -d: -f3)
[ "$glo" -lt "$pg" ] || t_abort "no free gid below the primary group $pg for $lo"

cd "$TMPD" || exit 1
out=$("$AGENTSH" --no-config --user $U -c 'id -G' 2>&1)
eq "agentsh --user with groups below and above the primary one starts" 0 $?
want=$(id -G $U | tr ' ' '\n' | sort -n | tr '\n' ' ')
got=$(printf '%s\n' "$out" | tr ' ' '\n' | sort -n | tr '\n' ' ')
eq "the delegate has exactly the account's groups" "$want" "$got"
check "the lower group is among them" sh -c "printf '%s\n' '$out' | tr ' ' '\n' | grep -qx '$glo'"
done_testing
