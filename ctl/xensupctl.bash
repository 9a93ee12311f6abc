# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Bash completion for xensupctl: commands, their options, domain names and
# device names from the running daemon, files where a command reads or writes
# one. Works with the bash-completion package's helpers and without them.
# Installed as /usr/share/bash-completion/completions/xensupctl, which
# bash-completion sources inside a function: so no global arrays here, only
# functions.

# The commands, as xensupctl's usage() lists them (tests/test-completion.sh
# checks that every one --help names is here).
_xensupctl_commands() {
        printf '%s\n' list status history create start console shutdown reboot destroy pause \
                unpause mem-set mem-max vcpu-set vcpu-list vcpu-pin info reload monitor \
                block-attach block-detach network-attach network-detach block-list \
                network-list save restore migrate host-shutdown host-boot sim import-xl
}

# _xensupctl_arg_kinds COMMAND: what each of its arguments is, in order; a kind
# ending in "..." repeats. name: a domain; file; vdev, devid: a device of the
# domain named before; host; action: a simulated guest's; "-": nothing to offer.
_xensupctl_arg_kinds() {
        case $1 in
        status | history | start | console | shutdown | reboot | destroy | pause | unpause | \
                block-list | network-list | vcpu-list)
                echo name ;;
        mem-set | mem-max | vcpu-set | block-attach | network-attach) echo name - ;;
        vcpu-pin) echo name - - - ;;
        block-detach) echo name vdev ;;
        network-detach) echo name devid ;;
        save) echo name file ;;
        migrate) echo name host ;;
        sim) echo action name ;;
        create | restore) echo file ;;
        import-xl) echo file... ;;
        esac
}

# _xensupctl_options COMMAND: the options it takes after it (every one takes --help).
_xensupctl_options() {
        case $1 in
        list | status | history | block-list | network-list | monitor | vcpu-list | info)
                echo --json ;;
        shutdown) echo --reboot --timeout --wait --all ;;
        block-attach | network-attach) echo --persist ;;
        block-detach | network-detach) echo --force ;;
        save | migrate) echo --live ;;
        import-xl) echo --output-dir -o --force ;;
        esac
        echo --help
}

# _xensupctl_first_column XENSUPCTL [--user] COMMAND [ARGS]: the first column of the
# table it prints, header skipped. Bounded, since completion must never hang on a
# daemon that does not answer; stdin is not a terminal, so polkit asks nothing.
_xensupctl_first_column() {
        timeout -k 1 2 "$@" </dev/null 2>/dev/null | awk 'NR > 1 { print $1 }'
}

# _xensupctl_reply CUR: COMPREPLY is the words on stdin that begin with CUR. Not
# compgen -W, which would expand what the daemon sent; fed by < <(...), since the
# last command of a pipe runs in a subshell whose COMPREPLY is lost.
_xensupctl_reply() {
        local w
        COMPREPLY=()
        while IFS= read -r w; do
                [[ -n $w && $w == "$1"* ]] && COMPREPLY+=("$w")
        done
}

# _xensupctl_files CUR: file names, through bash-completion's _filedir when it is loaded.
_xensupctl_files() {
        if declare -F _filedir >/dev/null; then
                _filedir
        else
                compopt -o filenames 2>/dev/null
                mapfile -t COMPREPLY < <(compgen -f -- "$1")
        fi
}

# The completion function (complete -F).
_xensupctl() {
        local cur prev words cword
        if declare -F _init_completion >/dev/null; then
                _init_completion || return
        else
                words=("${COMP_WORDS[@]}")
                cword=$COMP_CWORD
                cur=${COMP_WORDS[COMP_CWORD]-}
                prev=${COMP_WORDS[COMP_CWORD - 1]-}
        fi
        COMPREPLY=()

        # The words before the cursor: getopt_long takes options anywhere, so
        # the command is the first word that is neither an option nor an option's value.
        local xensupctl=${words[0]} cmd="" all=false w i
        local -a user=() args=() kinds=()
        for ((i = 1; i < cword; i++)); do
                w=${words[i]}
                case $w in
                --user) user=(--user) ;;
                --all) all=true ;;
                --timeout | -o | --output-dir) ((i++)) ;;
                -?*) ;;
                *) if [[ -z $cmd ]]; then cmd=$w; else args+=("$w"); fi ;;
                esac
        done
        # The program as typed (./build/xensupctl too); xensupctl from PATH when that does not run.
        command -v -- "$xensupctl" >/dev/null 2>&1 || xensupctl=xensupctl

        case $prev in
        --timeout) return ;;
        -o | --output-dir) [[ $cmd == import-xl ]] && { _xensupctl_files "$cur"; return; } ;;
        esac

        if [[ $cur == -* ]]; then
                if [[ -z $cmd ]]; then
                        _xensupctl_reply "$cur" < <(printf '%s\n' --user --json --help --version)
                else
                        _xensupctl_reply "$cur" < <(_xensupctl_options "$cmd" | tr ' ' '\n')
                fi
                return
        fi
        if [[ -z $cmd ]]; then
                _xensupctl_reply "$cur" < <(_xensupctl_commands)
                return
        fi

        read -ra kinds <<<"$(_xensupctl_arg_kinds "$cmd")"
        local n=${#args[@]} kind=""
        if ((n < ${#kinds[@]})); then
                kind=${kinds[n]}
        elif ((${#kinds[@]} > 0)) && [[ ${kinds[-1]} == *... ]]; then
                kind=${kinds[-1]}
        fi
        case $kind in
        name)
                [[ $cmd == shutdown && $all == true ]] && return
                _xensupctl_reply "$cur" < <(_xensupctl_first_column "$xensupctl" "${user[@]}" list)
                ;;
        vdev)
                _xensupctl_reply "$cur" < <(_xensupctl_first_column "$xensupctl" "${user[@]}" \
                        block-list "${args[0]}")
                ;;
        devid)
                _xensupctl_reply "$cur" < <(_xensupctl_first_column "$xensupctl" "${user[@]}" \
                        network-list "${args[0]}")
                ;;
        host) _xensupctl_reply "$cur" <<<localhost ;;
        action) _xensupctl_reply "$cur" < <(printf '%s\n' crash reboot poweroff hang) ;;
        file | file...) _xensupctl_files "$cur" ;;
        esac
}

complete -F _xensupctl xensupctl
