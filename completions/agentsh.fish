# fish completion for agentsh.  Installed into share/fish/vendor_completions.d/.

set -l subcommands policy audit events report approve approver trash doctor help

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
            case --policy --user --output --events --delegate
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
complete -c agentsh -l policy -r -F -d 'policy name or file'
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
