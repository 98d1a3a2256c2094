
use builtin;
use str;

set edit:completion:arg-completer[sq] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'sq'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'sq'= {
            cand --color 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --config 'Config file [default: <config dir>/config.toml]'
            cand --json 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -v 'More detail on stderr (repeat for more); secrets are always masked'
            cand --verbose 'More detail on stderr (repeat for more); secrets are always masked'
            cand --no-input 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sq;completions'= {
            cand --color 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --config 'Config file [default: <config dir>/config.toml]'
            cand --json 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -v 'More detail on stderr (repeat for more); secrets are always masked'
            cand --verbose 'More detail on stderr (repeat for more); secrets are always masked'
            cand --no-input 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sq;help'= {
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sq;help;completions'= {
        }
        &'sq;help;help'= {
        }
    ]
    $completions[$command]
}
