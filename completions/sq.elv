
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
            cand diagnose 'Say exactly why each profile can''t publish, and what fixes it'
            cand reauth 'Re-authorize profiles in the browser and replace their stored tokens (`connect` the first time)'
            cand connect 'Re-authorize profiles in the browser and replace their stored tokens (`connect` the first time)'
            cand requeue 'Put failed posts back on the queue, once their profile is healthy'
            cand publish 'Publish the posts that are due'
            cand queue 'Add, list, show and cancel posts on the local queue'
            cand refresh 'Refresh Instagram Login and Threads tokens inside their refresh window'
            cand profiles 'List or remove the connected profiles'
            cand token 'Import and print stored tokens'
            cand config 'Read and change sq''s settings'
            cand sandbox 'Run the offline Meta emulator'
            cand demo 'Watch sq repair broken profiles, for real, on an offline Meta sandbox (no account needed)'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sq;diagnose'= {
            cand --network 'Only profiles of this network'
            cand --token 'Read a token from standard input ("-") and diagnose it without storing anything'
            cand --color 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --config 'Config file [default: <config dir>/config.toml]'
            cand --show-token 'Also show each token''s details: type, scopes, granular targets (never the whole token: that is `sq token print`)'
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
        &'sq;reauth'= {
            cand --browser 'Open the URL with this command instead of $BROWSER or the system opener (%s is the URL; without it the URL is the last argument); used over SSH and without a display too'
            cand --redirect-uri 'The redirect URI registered in the app [default: config <network>.redirect_uri, else redirect_uri, else http://localhost:8765/callback for Facebook and https://localhost:8765/callback for Instagram Login and Threads, which accept only https]'
            cand --timeout 'How long to wait for the browser, in seconds'
            cand --scope 'Ask for an extra permission too (repeatable; comma-separated lists work)'
            cand --color 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --config 'Config file [default: <config dir>/config.toml]'
            cand --all 'Connect every profile the login reaches that can publish (no prompt)'
            cand --revoke 'First revoke the app''s permissions for this login (Business Integrations → Remove)'
            cand --no-browser 'Don''t launch a browser: print the URL and accept the pasted redirect address'
            cand --via-page 'instagram: reconnect through the linked Facebook Page'
            cand --instagram-login 'instagram: use Instagram Login (the Instagram app id and secret)'
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
        &'sq;connect'= {
            cand --browser 'Open the URL with this command instead of $BROWSER or the system opener (%s is the URL; without it the URL is the last argument); used over SSH and without a display too'
            cand --redirect-uri 'The redirect URI registered in the app [default: config <network>.redirect_uri, else redirect_uri, else http://localhost:8765/callback for Facebook and https://localhost:8765/callback for Instagram Login and Threads, which accept only https]'
            cand --timeout 'How long to wait for the browser, in seconds'
            cand --scope 'Ask for an extra permission too (repeatable; comma-separated lists work)'
            cand --color 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --config 'Config file [default: <config dir>/config.toml]'
            cand --all 'Connect every profile the login reaches that can publish (no prompt)'
            cand --revoke 'First revoke the app''s permissions for this login (Business Integrations → Remove)'
            cand --no-browser 'Don''t launch a browser: print the URL and accept the pasted redirect address'
            cand --via-page 'instagram: reconnect through the linked Facebook Page'
            cand --instagram-login 'instagram: use Instagram Login (the Instagram app id and secret)'
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
        &'sq;requeue'= {
            cand --network 'Only posts of this network'
            cand --since 'Only posts that failed within this long (e.g. 24h, 7d)'
            cand --class 'Only these failure classes (repeatable). Default: auth, rate_limit, transient, unknown'
            cand --at 'When the posts go out: now, or their original time when that is still ahead'
            cand --color 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --config 'Config file [default: <config dir>/config.toml]'
            cand --failed 'Select failed posts (by profile and the filters below)'
            cand --dry-run 'Show what would be requeued and held; change nothing'
            cand --force 'Requeue without the health check (posts of a broken profile will fail again)'
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
        &'sq;publish'= {
            cand --interval 'Time between passes with --watch (e.g. 30s, 1m, 5m)'
            cand --limit 'Publish at most N posts in this run (per pass with --watch)'
            cand --lease 'How long a claim on a post lasts without a heartbeat before another run treats its process as dead (tests use a short one)'
            cand --color 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --config 'Config file [default: <config dir>/config.toml]'
            cand --watch 'Keep running: publish due posts every --interval until stopped (Ctrl-C / SIGTERM stop it cleanly)'
            cand --dry-run 'Show what would be published; send nothing, change nothing'
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
        &'sq;queue'= {
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
            cand add 'Put a post on the queue for one profile'
            cand list 'List posts on the queue (due first)'
            cand show 'Show one post with its history'
            cand cancel 'Cancel a queued, failed or unknown post'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sq;queue;add'= {
            cand --text 'The post''s text (caption on Instagram)'
            cand --link 'A link to share (Facebook only)'
            cand --image-url 'A public image URL (one per post for now)'
            cand --at 'When to publish: now, +30m, +2h, +1d, or an RFC 3339 time (2026-11-20T08:00:00Z)'
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
        &'sq;queue;list'= {
            cand --state 'Only posts in this state (repeatable)'
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
        &'sq;queue;show'= {
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
        &'sq;queue;cancel'= {
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
        &'sq;queue;help'= {
            cand add 'Put a post on the queue for one profile'
            cand list 'List posts on the queue (due first)'
            cand show 'Show one post with its history'
            cand cancel 'Cancel a queued, failed or unknown post'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sq;queue;help;add'= {
        }
        &'sq;queue;help;list'= {
        }
        &'sq;queue;help;show'= {
        }
        &'sq;queue;help;cancel'= {
        }
        &'sq;queue;help;help'= {
        }
        &'sq;refresh'= {
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
        &'sq;profiles'= {
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
            cand list 'List profiles: kind, name, reference, connection, token source and masked token, expiry'
            cand remove 'Remove a profile and the secrets only it uses'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sq;profiles;list'= {
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
        &'sq;profiles;remove'= {
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
        &'sq;profiles;help'= {
            cand list 'List profiles: kind, name, reference, connection, token source and masked token, expiry'
            cand remove 'Remove a profile and the secrets only it uses'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sq;profiles;help;list'= {
        }
        &'sq;profiles;help;remove'= {
        }
        &'sq;profiles;help;help'= {
        }
        &'sq;token'= {
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
            cand import 'Store a token you already have (read from standard input), like `gh auth login --with-token`'
            cand print 'Print a profile''s whole token on stdout (the only command that does)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sq;token;import'= {
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
        &'sq;token;print'= {
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
        &'sq;token;help'= {
            cand import 'Store a token you already have (read from standard input), like `gh auth login --with-token`'
            cand print 'Print a profile''s whole token on stdout (the only command that does)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sq;token;help;import'= {
        }
        &'sq;token;help;print'= {
        }
        &'sq;token;help;help'= {
        }
        &'sq;config'= {
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
            cand set 'Set a key (secrets only with --stdin)'
            cand get 'Print a key''s value (secrets masked); exit 1 when it is not set'
            cand list 'List every key with its value and where it comes from'
            cand unset 'Remove a key from the config file (or a secret from the credential store)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sq;config;set'= {
            cand --color 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --config 'Config file [default: <config dir>/config.toml]'
            cand --stdin 'Read the value from standard input (the first line)'
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
        &'sq;config;get'= {
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
        &'sq;config;list'= {
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
        &'sq;config;unset'= {
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
        &'sq;config;help'= {
            cand set 'Set a key (secrets only with --stdin)'
            cand get 'Print a key''s value (secrets masked); exit 1 when it is not set'
            cand list 'List every key with its value and where it comes from'
            cand unset 'Remove a key from the config file (or a secret from the credential store)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sq;config;help;set'= {
        }
        &'sq;config;help;get'= {
        }
        &'sq;config;help;list'= {
        }
        &'sq;config;help;unset'= {
        }
        &'sq;config;help;help'= {
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
        &'sq;demo'= {
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
            cand diagnose 'Say exactly why each profile can''t publish, and what fixes it'
            cand reauth 'Re-authorize profiles in the browser and replace their stored tokens (`connect` the first time)'
            cand requeue 'Put failed posts back on the queue, once their profile is healthy'
            cand publish 'Publish the posts that are due'
            cand queue 'Add, list, show and cancel posts on the local queue'
            cand refresh 'Refresh Instagram Login and Threads tokens inside their refresh window'
            cand profiles 'List or remove the connected profiles'
            cand token 'Import and print stored tokens'
            cand config 'Read and change sq''s settings'
            cand sandbox 'Run the offline Meta emulator'
            cand demo 'Watch sq repair broken profiles, for real, on an offline Meta sandbox (no account needed)'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sq;help;diagnose'= {
        }
        &'sq;help;reauth'= {
        }
        &'sq;help;requeue'= {
        }
        &'sq;help;publish'= {
        }
        &'sq;help;queue'= {
            cand add 'Put a post on the queue for one profile'
            cand list 'List posts on the queue (due first)'
            cand show 'Show one post with its history'
            cand cancel 'Cancel a queued, failed or unknown post'
        }
        &'sq;help;queue;add'= {
        }
        &'sq;help;queue;list'= {
        }
        &'sq;help;queue;show'= {
        }
        &'sq;help;queue;cancel'= {
        }
        &'sq;help;refresh'= {
        }
        &'sq;help;profiles'= {
            cand list 'List profiles: kind, name, reference, connection, token source and masked token, expiry'
            cand remove 'Remove a profile and the secrets only it uses'
        }
        &'sq;help;profiles;list'= {
        }
        &'sq;help;profiles;remove'= {
        }
        &'sq;help;token'= {
            cand import 'Store a token you already have (read from standard input), like `gh auth login --with-token`'
            cand print 'Print a profile''s whole token on stdout (the only command that does)'
        }
        &'sq;help;token;import'= {
        }
        &'sq;help;token;print'= {
        }
        &'sq;help;config'= {
            cand set 'Set a key (secrets only with --stdin)'
            cand get 'Print a key''s value (secrets masked); exit 1 when it is not set'
            cand list 'List every key with its value and where it comes from'
            cand unset 'Remove a key from the config file (or a secret from the credential store)'
        }
        &'sq;help;config;set'= {
        }
        &'sq;help;config;get'= {
        }
        &'sq;help;config;list'= {
        }
        &'sq;help;config;unset'= {
        }
        &'sq;help;sandbox'= {
            cand serve 'Serve an offline, stateful emulator of the Meta endpoints sq uses'
        }
        &'sq;help;sandbox;serve'= {
        }
        &'sq;help;demo'= {
        }
        &'sq;help;completions'= {
        }
        &'sq;help;help'= {
        }
    ]
    $completions[$command]
}
