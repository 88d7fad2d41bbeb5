# fish completion for agentsh.  Installed into share/fish/vendor_completions.d/.

set -l subcommands policy audit events report approve approver trash doctor help

# Options that take a value in the next word (global ones and the subcommands').
set -g __agentsh_valued_options --policy --user --output --events --delegate --format --level \
    --type --decision --session --dir --trash-dir --socket-dir --device --since --until \
    --path-like --domain-like --limit --for --code --secret --older-than --remote \
    --remote-agentsh --ssh

# True when the subcommand (the first operand) is $argv[1].
function __agentsh_sub_is
    set -l words (commandline -opc)
    set -e words[1]
    set -l skip 0
    for w in $words
        if test $skip = 1
            set skip 0
            continue
        end
        switch $w
            case --policy --user --output --events --delegate
                set skip 1
            case '-*'
            case '*'
                test "$w" = "$argv[1]"
                return
        end
    end
    return 1
end

# True when no subcommand (first operand) has been typed yet, and no -c.
function __agentsh_no_subcommand
    set -l words (commandline -opc)
    set -e words[1]
    set -l skip 0
    for w in $words
        if test $skip = 1
            set skip 0
            continue
        end
        switch $w
            case -c '-[!-]*c'
                return 1
            case --policy --user --output --events --delegate
                set skip 1
            case '-*'
            case '*'
                return 1
        end
    end
    return 0
end

# __agentsh_operands_are SUB [WORD...]: the subcommand is SUB and the operands
# after it are exactly WORD... (options left out).
function __agentsh_operands_are
    set -l words (commandline -opc)
    set -e words[1]
    set -l ops
    set -l skip 0
    for w in $words
        if test $skip = 1
            set skip 0
            continue
        end
        switch $w
            case $__agentsh_valued_options
                set skip 1
            case '-*'
            case '*'
                set -a ops $w
        end
    end
    test (count $ops) -eq (count $argv); or return 1
    for i in (seq (count $argv))
        test "$ops[$i]" = "$argv[$i]"; or return 1
    end
    return 0
end

complete -c agentsh -f
# Global flags.
complete -c agentsh -s c -x -d 'run the command string and exit' -a '(__fish_complete_command)'
complete -c agentsh -n __agentsh_no_subcommand -s i -d 'interactive shell'
complete -c agentsh -n __agentsh_no_subcommand -s l -l login -d 'login shell'
complete -c agentsh -n __agentsh_no_subcommand -s s -d 'read commands from standard input'
complete -c agentsh -l json -d 'print JSON'
complete -c agentsh -n __agentsh_no_subcommand -l output -x -a 'json shell' -d 'output format'
complete -c agentsh -n __agentsh_no_subcommand -l events -x -a 'all summary blocked none' -d 'events to report'
complete -c agentsh -n __agentsh_no_subcommand -l policy -r -F -d 'policy name or file'
complete -c agentsh -n __agentsh_no_subcommand -l user -x -a '(__fish_complete_users)' -d 'run as this account (root)'
complete -c agentsh -n __agentsh_no_subcommand -l delegate -r -F -d 'delegate interpreter (root)'
complete -c agentsh -n __agentsh_no_subcommand -l no-config -d 'ignore /etc/agentsh (root)'
complete -c agentsh -n __agentsh_no_subcommand -l version -d 'print the version and exit'
complete -c agentsh -n __agentsh_no_subcommand -l help -d 'print the help and exit'

# Subcommands (or a script file).
complete -c agentsh -n __agentsh_no_subcommand -F
complete -c agentsh -n __agentsh_no_subcommand -a policy -d 'show, validate, lint, check, test or generate policies'
complete -c agentsh -n __agentsh_no_subcommand -a audit -d 'verify or export the audit trail'
complete -c agentsh -n __agentsh_no_subcommand -a events -d 'query or follow recorded events'
complete -c agentsh -n __agentsh_no_subcommand -a report -d 'a report of a session'
complete -c agentsh -n __agentsh_no_subcommand -a approve -d 'answer pending approval requests'
complete -c agentsh -n __agentsh_no_subcommand -a approver -d 'add, list or remove approvers'
complete -c agentsh -n __agentsh_no_subcommand -a trash -d 'list, restore or purge soft-deleted files'
complete -c agentsh -n __agentsh_no_subcommand -a doctor -d 'what this machine can enforce'
complete -c agentsh -n __agentsh_no_subcommand -a help -d 'list agentsh commands or show one'

# policy
complete -c agentsh -n '__agentsh_operands_are policy' -a 'show validate lint check test generate'
complete -c agentsh -n '__agentsh_operands_are policy check' -a 'file exec net signal unix'
complete -c agentsh -n '__agentsh_operands_are policy check file' -a 'read write create delete rename link symlink mkdir rmdir chmod chown truncate xattr mknod exec open stat list readlink access'
complete -c agentsh -n '__agentsh_operands_are policy check unix' -a 'connect bind listen sendto'
complete -c agentsh -n '__agentsh_operands_are policy check net' -a connect
complete -c agentsh -n '__agentsh_operands_are policy check signal' -a '(__fish_make_completion_signals; for s in $__kill_signals; string split -f2 " " -- $s | string replace -r "^" SIG; end)'
complete -c agentsh -n '__agentsh_operands_are policy check exec' -a '(__fish_complete_command)'
for s in validate lint test show
    complete -c agentsh -n "__fish_seen_subcommand_from $s; and __fish_seen_subcommand_from policy" -F
end
for op in read write create delete rename link symlink mkdir rmdir chmod chown truncate xattr mknod exec open stat list readlink access
    complete -c agentsh -n "__agentsh_operands_are policy check file $op" -F
end
complete -c agentsh -n '__fish_seen_subcommand_from policy' -l policy -r -F -d 'policy name or file'

# signal targets: after `policy check signal NAME`
function __agentsh_signal_target
    set -l words (commandline -opc)
    test (count $words) -ge 5; or return 1
    test "$words[-3]" = check -a "$words[-2]" = signal
end
complete -c agentsh -n __agentsh_signal_target -a 'self children descendants siblings session parent external system'

# the other subcommands
complete -c agentsh -n '__agentsh_operands_are audit' -a 'verify export'
complete -c agentsh -n '__agentsh_operands_are events' -a 'query tail'
complete -c agentsh -n '__agentsh_operands_are approver' -a 'add list remove'
complete -c agentsh -n '__agentsh_operands_are trash' -a 'list restore purge'
complete -c agentsh -n '__agentsh_operands_are help' -a "$subcommands"
complete -c agentsh -n '__agentsh_operands_are approve' -a 'list show allow deny'
complete -c agentsh -n '__agentsh_operands_are report' -a latest

# the subcommands' options
complete -c agentsh -n '__agentsh_sub_is audit' -l format -x -a 'jsonl ocsf' -d 'export format'
complete -c agentsh -n '__agentsh_sub_is audit; or __agentsh_sub_is events' -l since -x -d 'since TIME (2026-01-31T12:00:00Z, @SECS, 2h)'
complete -c agentsh -n '__agentsh_sub_is audit; or __agentsh_sub_is events; or __agentsh_sub_is trash' -l session -x -a latest -d 'only this session'
complete -c agentsh -n '__agentsh_sub_is audit; or __agentsh_sub_is report' -l output -r -F -d 'write to FILE'
complete -c agentsh -n '__agentsh_sub_is events' -l type -x -a 'file network exec command_start command_end signal approval_requested soft_delete' -d 'event type'
complete -c agentsh -n '__agentsh_sub_is events' -l decision -x -a 'allow deny approve redirect audit soft_delete' -d 'decision'
complete -c agentsh -n '__agentsh_sub_is events' -l until -x -d 'until TIME'
complete -c agentsh -n '__agentsh_sub_is events' -l path-like -x -d 'path pattern'
complete -c agentsh -n '__agentsh_sub_is events' -l domain-like -x -d 'domain pattern'
complete -c agentsh -n '__agentsh_sub_is events' -l limit -s n -x -d 'at most N events'
complete -c agentsh -n '__agentsh_sub_is events' -l for -x -d 'follow for SECONDS'
complete -c agentsh -n '__agentsh_sub_is report' -l level -x -a 'summary detailed' -d 'detail'
complete -c agentsh -n '__agentsh_sub_is approve' -l session -d 'allow for the rest of the session'
complete -c agentsh -n '__agentsh_sub_is approve' -l code -x -d 'TOTP code'
complete -c agentsh -n '__agentsh_sub_is approve; or __agentsh_sub_is approver' -l webauthn -d 'FIDO2 security key'
complete -c agentsh -n '__agentsh_sub_is approve; or __agentsh_sub_is approver' -l device -r -F -d 'FIDO2 device'
complete -c agentsh -n '__agentsh_sub_is approve' -l remote -x -d 'approve on USER@HOST over ssh'
complete -c agentsh -n '__agentsh_sub_is approve' -l remote-agentsh -r -d 'agentsh on the remote host'
complete -c agentsh -n '__agentsh_sub_is approve' -l ssh -x -a '(__fish_complete_command)' -d 'ssh client'
complete -c agentsh -n '__agentsh_sub_is approve' -l socket-dir -x -a '(__fish_complete_directories)' -d 'approval sockets'
complete -c agentsh -n '__agentsh_sub_is approver' -l totp -d 'a TOTP approver'
complete -c agentsh -n '__agentsh_sub_is approver' -l secret -x -d 'TOTP secret (base32)'
complete -c agentsh -n '__agentsh_sub_is approver; or __agentsh_sub_is trash' -l force -d 'replace / overwrite'
complete -c agentsh -n '__agentsh_sub_is approver' -l dir -x -a '(__fish_complete_directories)' -d 'approver store'
complete -c agentsh -n '__agentsh_sub_is trash' -l all -d 'purge everything'
complete -c agentsh -n '__agentsh_sub_is trash' -l older-than -x -d 'purge entries older than DAYS'
complete -c agentsh -n '__agentsh_sub_is trash' -l trash-dir -x -a '(__fish_complete_directories)' -d 'another trash'
