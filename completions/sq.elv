
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
            cand sandbox 'Run the offline Meta emulator'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sq;sandbox'= {
            cand --color 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --config 'Config file [default: <config dir>/config.toml]'
            cand --json 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -v 'More detail on stderr (repeat for more); secrets are always masked'
            cand --verbose 'More detail on stderr (repeat for more); secrets are always masked'
            cand --no-input 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand serve 'Serve an offline, stateful emulator of the Meta endpoints sq uses'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sq;sandbox;serve'= {
            cand --port 'Port on 127.0.0.1 (0 picks a free one)'
            cand --scenario 'A built-in scenario name or a JSON scenario file'
            cand --latency-ms 'Latency added to every answer, in milliseconds'
            cand --port-file 'Write the chosen port to this file once listening (for scripts)'
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
        &'sq;sandbox;help'= {
            cand serve 'Serve an offline, stateful emulator of the Meta endpoints sq uses'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sq;sandbox;help;serve'= {
        }
        &'sq;sandbox;help;help'= {
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
            cand sandbox 'Run the offline Meta emulator'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sq;help;sandbox'= {
            cand serve 'Serve an offline, stateful emulator of the Meta endpoints sq uses'
        }
        &'sq;help;sandbox;serve'= {
        }
        &'sq;help;completions'= {
        }
        &'sq;help;help'= {
        }
    ]
    $completions[$command]
}
