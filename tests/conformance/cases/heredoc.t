# Here-documents.

=== heredoc-unquoted-expands
x=val
cat <<EOF
x is $x, sum $((1+2)), cmd $(echo sub)
EOF
--- stdout
x is val, sum 3, cmd sub
--- exit 0

=== heredoc-quoted-delimiter-literal
x=val
cat <<'EOF'
x is $x, $(echo no) `no`
EOF
--- stdout
x is $x, $(echo no) `no`
--- exit 0

=== heredoc-partially-quoted-delimiter
cat <<"E"OF
$HOME
EOF
--- stdout
$HOME
--- exit 0

=== heredoc-strip-tabs
	cat <<-EOF
		indented
	EOF
echo after
--- stdout
indented
after
--- exit 0

=== heredoc-backslash-in-unquoted
cat <<EOF
a\$b \\ \n
EOF
--- stdout
a$b \ \n
--- exit 0

=== heredoc-two-on-one-line
cat <<A; cat <<B
first
A
second
B
--- stdout
first
second
--- exit 0

=== heredoc-into-loop
while read -r l; do echo "got $l"; done <<EOF
one
two
EOF
--- stdout
got one
got two
--- exit 0

=== heredoc-in-function
f() {
cat <<EOF
in f: $1
EOF
}
f arg
--- stdout
in f: arg
--- exit 0

=== heredoc-empty
cat <<EOF
EOF
echo "[done]"
--- stdout
[done]
--- exit 0

=== heredoc-with-pipe
cat <<EOF | tr a-z A-Z
lower
EOF
--- stdout
LOWER
--- exit 0
