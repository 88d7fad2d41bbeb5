#!/bin/sh
# agentsh as an account's login shell behind a real sshd on loopback: remote
# commands keep sh -c semantics (exit status, binary-safe stdin/stdout, separate
# stderr), run sandboxed, and scp (SFTP), rsync and an interactive `ssh -t`
# session work.  The account's policy comes from a root-owned /etc/agentsh.
. "$AGENTSH_SRC/tests/lib.sh"
need_root
need_cmd ssh ssh-keygen scp rsync tmux
[ -x /usr/sbin/sshd ] || t_abort "needs /usr/sbin/sshd (openssh-server; run: make deps)"
[ -x "$AGENTSH" ] || t_abort "no agentsh binary at $AGENTSH (run make)"
[ -e /etc/agentsh ] && t_abort "/etc/agentsh exists; this test installs its own configuration there"
U=agentsh-ssh
D=$(mktemp -d /usr/local/lib/agentsh-ssh.XXXXXX); chmod 755 "$D"   # /tmp may be nosuid
cleanup() {
	[ -f "$TMPD/sshd.pid" ] && kill "$(cat "$TMPD/sshd.pid")" 2>/dev/null
	tm_kill; userdel -r $U >/dev/null 2>&1; rm -rf "$D" /etc/agentsh "$TMPD"
}
trap cleanup EXIT
cp "$AGENTSH" "$D/agentsh" && chmod 4755 "$D/agentsh"
t_user $U || t_abort "cannot create the test account $U"
usermod -s "$D/agentsh" -p '*' $U
H=$(getent passwd $U | cut -d: -f6)

mkdir -m 755 /etc/agentsh /etc/agentsh/policies
cat > /etc/agentsh/policies/ssh-test.yaml <<EOP
version: 1
name: ssh-test
file_rules:
  - {name: home, paths: ["\${HOME}/**"], operations: ["*"], decision: allow}
  - {name: devices, paths: ["/dev/null", "/dev/tty", "/dev/pts/*"], operations: ["*"], decision: allow}
command_rules:
  - {name: no-uname, commands: [uname], decision: deny, message: "uname is not for agents"}
  - {name: tools, commands: [bash, sh, cat, echo, id, grep, true, sftp-server, rsync, scp, dircolors, lesspipe, ls], decision: allow}
EOP
printf 'accounts:\n  %s: ssh-test\n' $U > /etc/agentsh/config.yaml
chmod 644 /etc/agentsh/config.yaml /etc/agentsh/policies/ssh-test.yaml

PORT=$(( 20000 + $$ % 20000 ))
mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$TMPD/hostkey" && ssh-keygen -q -t ed25519 -N '' -f "$TMPD/clientkey" || exit 1
mkdir -m 755 "$TMPD/keys" && cp "$TMPD/clientkey.pub" "$TMPD/keys/$U" && chmod 644 "$TMPD/keys/$U"
cat >"$TMPD/sshd_config" <<EOC
Port $PORT
ListenAddress 127.0.0.1
HostKey $TMPD/hostkey
PidFile $TMPD/sshd.pid
AuthorizedKeysFile $TMPD/keys/%u
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp /usr/lib/openssh/sftp-server
EOC
/usr/sbin/sshd -f "$TMPD/sshd_config" -E "$TMPD/sshd.log" || t_abort "sshd did not start: $(tail -n 2 "$TMPD/sshd.log")"
SSHO="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i $TMPD/clientkey"
s() { ssh -p $PORT $SSHO $U@127.0.0.1 "$@"; }
i=0; while ! s true 2>/dev/null; do
	i=$((i+1)); [ $i -gt 50 ] && t_abort "cannot log in over ssh: $(tail -n 3 "$TMPD/sshd.log")"; sleep 0.1; done

out=$(s 'echo "hello $USER"; exit 3'); rc=$?
eq "remote command output" "hello $U" "$out"
eq "remote command exit status" 3 "$rc"
out=$(s 'echo to-err >&2; echo to-out' 2>"$TMPD/err")
eq "stdout stays stdout" "to-out" "$out"
eq "stderr stays stderr" "to-err" "$(cat "$TMPD/err")"
head -c 262144 /dev/urandom > "$TMPD/blob"
s cat < "$TMPD/blob" > "$TMPD/blob.back"
check "256 KiB of random bytes through ssh ... cat come back unchanged" cmp -s "$TMPD/blob" "$TMPD/blob.back"
eq "the remote command runs sandboxed (no_new_privs)" "NoNewPrivs:	1" "$(s 'grep NoNewPrivs /proc/self/status')"
s "uname -a" >/dev/null 2>"$TMPD/nc.err"; rc=$?
eq "a denied command over ssh exits 126" 126 "$rc"
check "the denial is explained on stderr" grep -q "uname is not for agents" "$TMPD/nc.err"
eq "the shell is agentsh" "$D/agentsh" "$(s 'echo $SHELL')"

scp -q -P $PORT $SSHO "$TMPD/blob" $U@127.0.0.1:copied.bin
check "scp (SFTP) upload lands intact in the account's home" cmp -s "$TMPD/blob" "$H/copied.bin"
rsync -a -e "ssh -p $PORT $SSHO" "$TMPD/blob" $U@127.0.0.1:rsynced.bin
check "rsync over ssh lands intact" cmp -s "$TMPD/blob" "$H/rsynced.bin"

tm_start 100 30 ssh -tt -p $PORT $SSHO $U@127.0.0.1
tm_wait "$U@" 30 && ok "interactive ssh -t session shows agentsh's prompt" || nok "interactive ssh -t session shows agentsh's prompt"
tm_type 'echo $((6*7))'; tm_keys Enter
tm_wait "^42" 30 && ok "interactive command runs" || nok "interactive command runs"
tm_type 'exit 5'; tm_keys Enter
i=0; while [ "$(tm_dead)" != 1 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
eq "exit N ends the ssh session with N" 5 "$(tm_status)" || { echo "# screen:"; tm_screen | sed 's/^/#  | /'; }
done_testing
