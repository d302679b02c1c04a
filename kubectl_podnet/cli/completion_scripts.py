"""The shell side of completion for `kubectl-podnet`: each script asks `kubectl-podnet __complete`.

They read cobra's answer (candidate[TAB description] lines, then `:<directive>`) and honour the
directive bits we emit: 1 error (offer nothing), 2 no space, 4 no file names, 16 directories
only; with 0 and no candidates the shell falls back to file names (a kubeconfig path).
"""

from __future__ import annotations

BASH = r"""# bash completion for kubectl-podnet (source it, or put it in bash-completion's directory)
_kubectl_podnet() {
    local cur="${COMP_WORDS[COMP_CWORD]}" out directive line
    local -a lines
    out=$(kubectl-podnet __complete "${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" 2>/dev/null) || return
    mapfile -t lines <<<"$out"
    directive="${lines[${#lines[@]}-1]#:}"
    unset 'lines[${#lines[@]}-1]'
    [[ "$directive" =~ ^[0-9]+$ ]] || directive=0
    (( directive & 1 )) && return
    (( directive & 2 )) && compopt -o nospace
    if (( directive & 16 )); then
        COMPREPLY=( $(compgen -d -- "$cur") )
        return
    fi
    COMPREPLY=()
    for line in "${lines[@]}"; do
        [[ -n "$line" ]] && COMPREPLY+=( "${line%%$'\t'*}" )
    done
    if (( ${#COMPREPLY[@]} == 0 && !(directive & 4) )); then
        COMPREPLY=( $(compgen -f -- "$cur") )
    fi
}
complete -F _kubectl_podnet kubectl-podnet
"""

ZSH = r"""#compdef kubectl-podnet
# zsh completion for kubectl-podnet (source it after compinit, or put it on $fpath as _kubectl-podnet)
_kubectl_podnet() {
    local out directive line
    local -a lines candidates
    out=$(kubectl-podnet __complete "${(@)words[2,CURRENT-1]}" "${words[CURRENT]}" 2>/dev/null) || return 1
    lines=("${(@f)out}")
    directive="${lines[-1]#:}"
    lines=("${(@)lines[1,-2]}")
    [[ "$directive" == <-> ]] || directive=0
    (( directive & 1 )) && return 1
    if (( directive & 16 )); then
        _path_files -/
        return
    fi
    for line in "${lines[@]}"; do
        [[ -z "$line" ]] && continue
        if [[ "$line" == *$'\t'* ]]; then
            candidates+=("${${line%%$'\t'*}//:/\\:}:${line#*$'\t'}")
        else
            candidates+=("${line//:/\\:}")
        fi
    done
    if (( ${#candidates} )); then
        if (( directive & 2 )); then
            _describe -t podnet 'kubectl-podnet' candidates -S ''
        else
            _describe -t podnet 'kubectl-podnet' candidates
        fi
    elif (( !(directive & 4) )); then
        _files
    fi
}
if [[ "$funcstack[1]" == "_kubectl-podnet" ]]; then
    _kubectl_podnet "$@"
else
    compdef _kubectl_podnet kubectl-podnet
fi
"""

FISH = r"""# fish completion for kubectl-podnet (kubectl-podnet completion fish | source)
function __kubectl_podnet_complete
    set -l args (commandline -opc)
    set -e args[1]
    set -l out (kubectl-podnet __complete $args (commandline -ct) 2>/dev/null)
    or return
    set -l directive (string replace -r '^:' '' -- $out[-1])
    set -e out[-1]
    if test (math "bitand($directive, 1)") -ne 0
        return
    end
    if test (math "bitand($directive, 16)") -ne 0
        __fish_complete_directories (commandline -ct)
        return
    end
    for line in $out
        test -n "$line"; and printf '%s\n' $line
    end
    if test (count $out) -eq 0; and test (math "bitand($directive, 4)") -eq 0
        __fish_complete_path (commandline -ct)
    end
end
complete -c kubectl-podnet -f -a '(__kubectl_podnet_complete)'
"""

SCRIPTS = {"bash": BASH, "zsh": ZSH, "fish": FISH}
