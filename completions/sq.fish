# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_sq_global_optspecs
    string join \n json q/quiet v/verbose no-input color= config= h/help V/version
end

function __fish_sq_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_sq_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_sq_using_subcommand
    set -l cmd (__fish_sq_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c sq -n "__fish_sq_needs_command" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_needs_command" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_needs_command" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_needs_command" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_needs_command" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_needs_command" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_needs_command" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_needs_command" -f -a "diagnose" -d 'Say exactly why each profile can\'t publish, and what fixes it'
complete -c sq -n "__fish_sq_needs_command" -f -a "reauth" -d 'Re-authorize profiles in the browser and replace their stored tokens (`connect` the first time)'
complete -c sq -n "__fish_sq_needs_command" -f -a "connect" -d 'Re-authorize profiles in the browser and replace their stored tokens (`connect` the first time)'
complete -c sq -n "__fish_sq_needs_command" -f -a "requeue" -d 'Put failed posts back on the queue, once their profile is healthy'
complete -c sq -n "__fish_sq_needs_command" -f -a "publish" -d 'Publish the posts that are due'
complete -c sq -n "__fish_sq_needs_command" -f -a "queue" -d 'Add, list, show and cancel posts on the local queue'
complete -c sq -n "__fish_sq_needs_command" -f -a "refresh" -d 'Refresh Instagram Login and Threads tokens inside their refresh window'
complete -c sq -n "__fish_sq_needs_command" -f -a "profiles" -d 'List or remove the connected profiles'
complete -c sq -n "__fish_sq_needs_command" -f -a "token" -d 'Import and print stored tokens'
complete -c sq -n "__fish_sq_needs_command" -f -a "config" -d 'Read and change sq\'s settings'
complete -c sq -n "__fish_sq_needs_command" -f -a "sandbox" -d 'Run the offline Meta emulator'
complete -c sq -n "__fish_sq_needs_command" -f -a "demo" -d 'Watch sq repair broken profiles, for real, on an offline Meta sandbox (no account needed)'
complete -c sq -n "__fish_sq_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c sq -n "__fish_sq_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sq -n "__fish_sq_using_subcommand diagnose" -l network -d 'Only profiles of this network' -r -f -a "facebook\t''
instagram\t''
threads\t''"
complete -c sq -n "__fish_sq_using_subcommand diagnose" -l token -d 'Read a token from standard input ("-") and diagnose it without storing anything' -r
complete -c sq -n "__fish_sq_using_subcommand diagnose" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand diagnose" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand diagnose" -l show-token -d 'Also show each token\'s details: type, scopes, granular targets (never the whole token: that is `sq token print`)'
complete -c sq -n "__fish_sq_using_subcommand diagnose" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand diagnose" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand diagnose" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand diagnose" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand diagnose" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_using_subcommand diagnose" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand reauth" -l browser -d 'Open the URL with this command instead of $BROWSER or the system opener (%s is the URL; without it the URL is the last argument); used over SSH and without a display too' -r
complete -c sq -n "__fish_sq_using_subcommand reauth" -l redirect-uri -d 'The redirect URI registered in the app [default: config <network>.redirect_uri, else redirect_uri, else http://localhost:8765/callback for Facebook and https://localhost:8765/callback for Instagram Login and Threads, which accept only https]' -r
complete -c sq -n "__fish_sq_using_subcommand reauth" -l timeout -d 'How long to wait for the browser, in seconds' -r
complete -c sq -n "__fish_sq_using_subcommand reauth" -l scope -d 'Ask for an extra permission too (repeatable; comma-separated lists work)' -r
complete -c sq -n "__fish_sq_using_subcommand reauth" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand reauth" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand reauth" -l all -d 'Connect every profile the login reaches that can publish (no prompt)'
complete -c sq -n "__fish_sq_using_subcommand reauth" -l revoke -d 'First revoke the app\'s permissions for this login (Business Integrations → Remove)'
complete -c sq -n "__fish_sq_using_subcommand reauth" -l no-browser -d 'Don\'t launch a browser: print the URL and accept the pasted redirect address'
complete -c sq -n "__fish_sq_using_subcommand reauth" -l via-page -d 'instagram: reconnect through the linked Facebook Page'
complete -c sq -n "__fish_sq_using_subcommand reauth" -l instagram-login -d 'instagram: use Instagram Login (the Instagram app id and secret)'
complete -c sq -n "__fish_sq_using_subcommand reauth" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand reauth" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand reauth" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand reauth" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand reauth" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_using_subcommand reauth" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand connect" -l browser -d 'Open the URL with this command instead of $BROWSER or the system opener (%s is the URL; without it the URL is the last argument); used over SSH and without a display too' -r
complete -c sq -n "__fish_sq_using_subcommand connect" -l redirect-uri -d 'The redirect URI registered in the app [default: config <network>.redirect_uri, else redirect_uri, else http://localhost:8765/callback for Facebook and https://localhost:8765/callback for Instagram Login and Threads, which accept only https]' -r
complete -c sq -n "__fish_sq_using_subcommand connect" -l timeout -d 'How long to wait for the browser, in seconds' -r
complete -c sq -n "__fish_sq_using_subcommand connect" -l scope -d 'Ask for an extra permission too (repeatable; comma-separated lists work)' -r
complete -c sq -n "__fish_sq_using_subcommand connect" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand connect" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand connect" -l all -d 'Connect every profile the login reaches that can publish (no prompt)'
complete -c sq -n "__fish_sq_using_subcommand connect" -l revoke -d 'First revoke the app\'s permissions for this login (Business Integrations → Remove)'
complete -c sq -n "__fish_sq_using_subcommand connect" -l no-browser -d 'Don\'t launch a browser: print the URL and accept the pasted redirect address'
complete -c sq -n "__fish_sq_using_subcommand connect" -l via-page -d 'instagram: reconnect through the linked Facebook Page'
complete -c sq -n "__fish_sq_using_subcommand connect" -l instagram-login -d 'instagram: use Instagram Login (the Instagram app id and secret)'
complete -c sq -n "__fish_sq_using_subcommand connect" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand connect" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand connect" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand connect" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand connect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_using_subcommand connect" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand requeue" -l network -d 'Only posts of this network' -r -f -a "facebook\t''
instagram\t''
threads\t''"
complete -c sq -n "__fish_sq_using_subcommand requeue" -l since -d 'Only posts that failed within this long (e.g. 24h, 7d)' -r
complete -c sq -n "__fish_sq_using_subcommand requeue" -l class -d 'Only these failure classes (repeatable). Default: auth, rate_limit, transient, unknown' -r -f -a "auth\t''
rate_limit\t''
transient\t''
media\t''
content\t''
unknown\t''
all\t''"
complete -c sq -n "__fish_sq_using_subcommand requeue" -l at -d 'When the posts go out: now, or their original time when that is still ahead' -r -f -a "now\t''
original\t''"
complete -c sq -n "__fish_sq_using_subcommand requeue" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand requeue" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand requeue" -l failed -d 'Select failed posts (by profile and the filters below)'
complete -c sq -n "__fish_sq_using_subcommand requeue" -l dry-run -d 'Show what would be requeued and held; change nothing'
complete -c sq -n "__fish_sq_using_subcommand requeue" -l force -d 'Requeue without the health check (posts of a broken profile will fail again)'
complete -c sq -n "__fish_sq_using_subcommand requeue" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand requeue" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand requeue" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand requeue" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand requeue" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_using_subcommand requeue" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand publish" -l interval -d 'Time between passes with --watch (e.g. 30s, 1m, 5m)' -r
complete -c sq -n "__fish_sq_using_subcommand publish" -l limit -d 'Publish at most N posts in this run (per pass with --watch)' -r
complete -c sq -n "__fish_sq_using_subcommand publish" -l lease -d 'How long a claim on a post lasts without a heartbeat before another run treats its process as dead (tests use a short one)' -r
complete -c sq -n "__fish_sq_using_subcommand publish" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand publish" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand publish" -l watch -d 'Keep running: publish due posts every --interval until stopped (Ctrl-C / SIGTERM stop it cleanly)'
complete -c sq -n "__fish_sq_using_subcommand publish" -l dry-run -d 'Show what would be published; send nothing, change nothing'
complete -c sq -n "__fish_sq_using_subcommand publish" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand publish" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand publish" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand publish" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand publish" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_using_subcommand publish" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand queue; and not __fish_seen_subcommand_from add list show cancel help" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand queue; and not __fish_seen_subcommand_from add list show cancel help" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand queue; and not __fish_seen_subcommand_from add list show cancel help" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand queue; and not __fish_seen_subcommand_from add list show cancel help" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand queue; and not __fish_seen_subcommand_from add list show cancel help" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand queue; and not __fish_seen_subcommand_from add list show cancel help" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand queue; and not __fish_seen_subcommand_from add list show cancel help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_using_subcommand queue; and not __fish_seen_subcommand_from add list show cancel help" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand queue; and not __fish_seen_subcommand_from add list show cancel help" -f -a "add" -d 'Put a post on the queue for one profile'
complete -c sq -n "__fish_sq_using_subcommand queue; and not __fish_seen_subcommand_from add list show cancel help" -f -a "list" -d 'List posts on the queue (due first)'
complete -c sq -n "__fish_sq_using_subcommand queue; and not __fish_seen_subcommand_from add list show cancel help" -f -a "show" -d 'Show one post with its history'
complete -c sq -n "__fish_sq_using_subcommand queue; and not __fish_seen_subcommand_from add list show cancel help" -f -a "cancel" -d 'Cancel a queued, failed or unknown post'
complete -c sq -n "__fish_sq_using_subcommand queue; and not __fish_seen_subcommand_from add list show cancel help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from add" -l text -d 'The post\'s text (caption on Instagram)' -r
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from add" -l link -d 'A link to share (Facebook only)' -r
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from add" -l image-url -d 'A public image URL (one per post for now)' -r
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from add" -l at -d 'When to publish: now, +30m, +2h, +1d, or an RFC 3339 time (2026-11-20T08:00:00Z)' -r
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from add" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from add" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from add" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from add" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from add" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from list" -l state -d 'Only posts in this state (repeatable)' -r -f -a "queued\t''
publishing\t''
published\t''
failed\t''
unknown\t''
canceled\t''"
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from list" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from list" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from show" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from show" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from show" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from show" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from show" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from cancel" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from cancel" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from cancel" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from cancel" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from cancel" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from cancel" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from cancel" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from cancel" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "add" -d 'Put a post on the queue for one profile'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "list" -d 'List posts on the queue (due first)'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one post with its history'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "cancel" -d 'Cancel a queued, failed or unknown post'
complete -c sq -n "__fish_sq_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sq -n "__fish_sq_using_subcommand refresh" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand refresh" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand refresh" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand refresh" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand refresh" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand refresh" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand refresh" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_using_subcommand refresh" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand profiles; and not __fish_seen_subcommand_from list remove help" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand profiles; and not __fish_seen_subcommand_from list remove help" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand profiles; and not __fish_seen_subcommand_from list remove help" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand profiles; and not __fish_seen_subcommand_from list remove help" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand profiles; and not __fish_seen_subcommand_from list remove help" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand profiles; and not __fish_seen_subcommand_from list remove help" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand profiles; and not __fish_seen_subcommand_from list remove help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_using_subcommand profiles; and not __fish_seen_subcommand_from list remove help" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand profiles; and not __fish_seen_subcommand_from list remove help" -f -a "list" -d 'List profiles: kind, name, reference, connection, token source and masked token, expiry'
complete -c sq -n "__fish_sq_using_subcommand profiles; and not __fish_seen_subcommand_from list remove help" -f -a "remove" -d 'Remove a profile and the secrets only it uses'
complete -c sq -n "__fish_sq_using_subcommand profiles; and not __fish_seen_subcommand_from list remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sq -n "__fish_sq_using_subcommand profiles; and __fish_seen_subcommand_from list" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand profiles; and __fish_seen_subcommand_from list" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand profiles; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand profiles; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand profiles; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand profiles; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand profiles; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_using_subcommand profiles; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand profiles; and __fish_seen_subcommand_from remove" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand profiles; and __fish_seen_subcommand_from remove" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand profiles; and __fish_seen_subcommand_from remove" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand profiles; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand profiles; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand profiles; and __fish_seen_subcommand_from remove" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand profiles; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_using_subcommand profiles; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand profiles; and __fish_seen_subcommand_from help" -f -a "list" -d 'List profiles: kind, name, reference, connection, token source and masked token, expiry'
complete -c sq -n "__fish_sq_using_subcommand profiles; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove a profile and the secrets only it uses'
complete -c sq -n "__fish_sq_using_subcommand profiles; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sq -n "__fish_sq_using_subcommand token; and not __fish_seen_subcommand_from import print help" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand token; and not __fish_seen_subcommand_from import print help" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand token; and not __fish_seen_subcommand_from import print help" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand token; and not __fish_seen_subcommand_from import print help" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand token; and not __fish_seen_subcommand_from import print help" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand token; and not __fish_seen_subcommand_from import print help" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand token; and not __fish_seen_subcommand_from import print help" -s h -l help -d 'Print help'
complete -c sq -n "__fish_sq_using_subcommand token; and not __fish_seen_subcommand_from import print help" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand token; and not __fish_seen_subcommand_from import print help" -f -a "import" -d 'Store a token you already have (read from standard input), like `gh auth login --with-token`'
complete -c sq -n "__fish_sq_using_subcommand token; and not __fish_seen_subcommand_from import print help" -f -a "print" -d 'Print a profile\'s whole token on stdout (the only command that does)'
complete -c sq -n "__fish_sq_using_subcommand token; and not __fish_seen_subcommand_from import print help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sq -n "__fish_sq_using_subcommand token; and __fish_seen_subcommand_from import" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand token; and __fish_seen_subcommand_from import" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand token; and __fish_seen_subcommand_from import" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand token; and __fish_seen_subcommand_from import" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand token; and __fish_seen_subcommand_from import" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand token; and __fish_seen_subcommand_from import" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand token; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_using_subcommand token; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand token; and __fish_seen_subcommand_from print" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand token; and __fish_seen_subcommand_from print" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand token; and __fish_seen_subcommand_from print" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand token; and __fish_seen_subcommand_from print" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand token; and __fish_seen_subcommand_from print" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand token; and __fish_seen_subcommand_from print" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand token; and __fish_seen_subcommand_from print" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_using_subcommand token; and __fish_seen_subcommand_from print" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "import" -d 'Store a token you already have (read from standard input), like `gh auth login --with-token`'
complete -c sq -n "__fish_sq_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "print" -d 'Print a profile\'s whole token on stdout (the only command that does)'
complete -c sq -n "__fish_sq_using_subcommand token; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sq -n "__fish_sq_using_subcommand config; and not __fish_seen_subcommand_from set get list unset help" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand config; and not __fish_seen_subcommand_from set get list unset help" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand config; and not __fish_seen_subcommand_from set get list unset help" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand config; and not __fish_seen_subcommand_from set get list unset help" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand config; and not __fish_seen_subcommand_from set get list unset help" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand config; and not __fish_seen_subcommand_from set get list unset help" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand config; and not __fish_seen_subcommand_from set get list unset help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_using_subcommand config; and not __fish_seen_subcommand_from set get list unset help" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand config; and not __fish_seen_subcommand_from set get list unset help" -f -a "set" -d 'Set a key (secrets only with --stdin)'
complete -c sq -n "__fish_sq_using_subcommand config; and not __fish_seen_subcommand_from set get list unset help" -f -a "get" -d 'Print a key\'s value (secrets masked); exit 1 when it is not set'
complete -c sq -n "__fish_sq_using_subcommand config; and not __fish_seen_subcommand_from set get list unset help" -f -a "list" -d 'List every key with its value and where it comes from'
complete -c sq -n "__fish_sq_using_subcommand config; and not __fish_seen_subcommand_from set get list unset help" -f -a "unset" -d 'Remove a key from the config file (or a secret from the credential store)'
complete -c sq -n "__fish_sq_using_subcommand config; and not __fish_seen_subcommand_from set get list unset help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from set" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from set" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from set" -l stdin -d 'Read the value from standard input (the first line)'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from set" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from set" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from set" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from set" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from set" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from get" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from get" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from get" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from get" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from get" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from get" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from list" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from list" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from unset" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from unset" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from unset" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from unset" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from unset" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from unset" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from unset" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from unset" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "set" -d 'Set a key (secrets only with --stdin)'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "get" -d 'Print a key\'s value (secrets masked); exit 1 when it is not set'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "list" -d 'List every key with its value and where it comes from'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "unset" -d 'Remove a key from the config file (or a secret from the credential store)'
complete -c sq -n "__fish_sq_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sq -n "__fish_sq_using_subcommand sandbox; and not __fish_seen_subcommand_from serve help" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand sandbox; and not __fish_seen_subcommand_from serve help" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand sandbox; and not __fish_seen_subcommand_from serve help" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand sandbox; and not __fish_seen_subcommand_from serve help" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand sandbox; and not __fish_seen_subcommand_from serve help" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand sandbox; and not __fish_seen_subcommand_from serve help" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand sandbox; and not __fish_seen_subcommand_from serve help" -s h -l help -d 'Print help'
complete -c sq -n "__fish_sq_using_subcommand sandbox; and not __fish_seen_subcommand_from serve help" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand sandbox; and not __fish_seen_subcommand_from serve help" -f -a "serve" -d 'Serve an offline, stateful emulator of the Meta endpoints sq uses'
complete -c sq -n "__fish_sq_using_subcommand sandbox; and not __fish_seen_subcommand_from serve help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sq -n "__fish_sq_using_subcommand sandbox; and __fish_seen_subcommand_from serve" -l port -d 'Port on 127.0.0.1 (0 picks a free one)' -r
complete -c sq -n "__fish_sq_using_subcommand sandbox; and __fish_seen_subcommand_from serve" -l scenario -d 'A built-in scenario name or a JSON scenario file' -r
complete -c sq -n "__fish_sq_using_subcommand sandbox; and __fish_seen_subcommand_from serve" -l latency-ms -d 'Latency added to every answer, in milliseconds' -r
complete -c sq -n "__fish_sq_using_subcommand sandbox; and __fish_seen_subcommand_from serve" -l port-file -d 'Write the chosen port to this file once listening (for scripts)' -r -F
complete -c sq -n "__fish_sq_using_subcommand sandbox; and __fish_seen_subcommand_from serve" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand sandbox; and __fish_seen_subcommand_from serve" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand sandbox; and __fish_seen_subcommand_from serve" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand sandbox; and __fish_seen_subcommand_from serve" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand sandbox; and __fish_seen_subcommand_from serve" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand sandbox; and __fish_seen_subcommand_from serve" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand sandbox; and __fish_seen_subcommand_from serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_using_subcommand sandbox; and __fish_seen_subcommand_from serve" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand sandbox; and __fish_seen_subcommand_from help" -f -a "serve" -d 'Serve an offline, stateful emulator of the Meta endpoints sq uses'
complete -c sq -n "__fish_sq_using_subcommand sandbox; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sq -n "__fish_sq_using_subcommand demo" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand demo" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand demo" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand demo" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand demo" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand demo" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_using_subcommand demo" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand completions" -l color -d 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c sq -n "__fish_sq_using_subcommand completions" -l config -d 'Config file [default: <config dir>/config.toml]' -r -F
complete -c sq -n "__fish_sq_using_subcommand completions" -l json -d 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr'
complete -c sq -n "__fish_sq_using_subcommand completions" -s q -l quiet -d 'Only errors on stderr'
complete -c sq -n "__fish_sq_using_subcommand completions" -s v -l verbose -d 'More detail on stderr (repeat for more); secrets are always masked'
complete -c sq -n "__fish_sq_using_subcommand completions" -l no-input -d 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]'
complete -c sq -n "__fish_sq_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sq -n "__fish_sq_using_subcommand completions" -s V -l version -d 'Print version'
complete -c sq -n "__fish_sq_using_subcommand help; and not __fish_seen_subcommand_from diagnose reauth requeue publish queue refresh profiles token config sandbox demo completions help" -f -a "diagnose" -d 'Say exactly why each profile can\'t publish, and what fixes it'
complete -c sq -n "__fish_sq_using_subcommand help; and not __fish_seen_subcommand_from diagnose reauth requeue publish queue refresh profiles token config sandbox demo completions help" -f -a "reauth" -d 'Re-authorize profiles in the browser and replace their stored tokens (`connect` the first time)'
complete -c sq -n "__fish_sq_using_subcommand help; and not __fish_seen_subcommand_from diagnose reauth requeue publish queue refresh profiles token config sandbox demo completions help" -f -a "requeue" -d 'Put failed posts back on the queue, once their profile is healthy'
complete -c sq -n "__fish_sq_using_subcommand help; and not __fish_seen_subcommand_from diagnose reauth requeue publish queue refresh profiles token config sandbox demo completions help" -f -a "publish" -d 'Publish the posts that are due'
complete -c sq -n "__fish_sq_using_subcommand help; and not __fish_seen_subcommand_from diagnose reauth requeue publish queue refresh profiles token config sandbox demo completions help" -f -a "queue" -d 'Add, list, show and cancel posts on the local queue'
complete -c sq -n "__fish_sq_using_subcommand help; and not __fish_seen_subcommand_from diagnose reauth requeue publish queue refresh profiles token config sandbox demo completions help" -f -a "refresh" -d 'Refresh Instagram Login and Threads tokens inside their refresh window'
complete -c sq -n "__fish_sq_using_subcommand help; and not __fish_seen_subcommand_from diagnose reauth requeue publish queue refresh profiles token config sandbox demo completions help" -f -a "profiles" -d 'List or remove the connected profiles'
complete -c sq -n "__fish_sq_using_subcommand help; and not __fish_seen_subcommand_from diagnose reauth requeue publish queue refresh profiles token config sandbox demo completions help" -f -a "token" -d 'Import and print stored tokens'
complete -c sq -n "__fish_sq_using_subcommand help; and not __fish_seen_subcommand_from diagnose reauth requeue publish queue refresh profiles token config sandbox demo completions help" -f -a "config" -d 'Read and change sq\'s settings'
complete -c sq -n "__fish_sq_using_subcommand help; and not __fish_seen_subcommand_from diagnose reauth requeue publish queue refresh profiles token config sandbox demo completions help" -f -a "sandbox" -d 'Run the offline Meta emulator'
complete -c sq -n "__fish_sq_using_subcommand help; and not __fish_seen_subcommand_from diagnose reauth requeue publish queue refresh profiles token config sandbox demo completions help" -f -a "demo" -d 'Watch sq repair broken profiles, for real, on an offline Meta sandbox (no account needed)'
complete -c sq -n "__fish_sq_using_subcommand help; and not __fish_seen_subcommand_from diagnose reauth requeue publish queue refresh profiles token config sandbox demo completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c sq -n "__fish_sq_using_subcommand help; and not __fish_seen_subcommand_from diagnose reauth requeue publish queue refresh profiles token config sandbox demo completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sq -n "__fish_sq_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "add" -d 'Put a post on the queue for one profile'
complete -c sq -n "__fish_sq_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "list" -d 'List posts on the queue (due first)'
complete -c sq -n "__fish_sq_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "show" -d 'Show one post with its history'
complete -c sq -n "__fish_sq_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "cancel" -d 'Cancel a queued, failed or unknown post'
complete -c sq -n "__fish_sq_using_subcommand help; and __fish_seen_subcommand_from profiles" -f -a "list" -d 'List profiles: kind, name, reference, connection, token source and masked token, expiry'
complete -c sq -n "__fish_sq_using_subcommand help; and __fish_seen_subcommand_from profiles" -f -a "remove" -d 'Remove a profile and the secrets only it uses'
complete -c sq -n "__fish_sq_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "import" -d 'Store a token you already have (read from standard input), like `gh auth login --with-token`'
complete -c sq -n "__fish_sq_using_subcommand help; and __fish_seen_subcommand_from token" -f -a "print" -d 'Print a profile\'s whole token on stdout (the only command that does)'
complete -c sq -n "__fish_sq_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "set" -d 'Set a key (secrets only with --stdin)'
complete -c sq -n "__fish_sq_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "get" -d 'Print a key\'s value (secrets masked); exit 1 when it is not set'
complete -c sq -n "__fish_sq_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "list" -d 'List every key with its value and where it comes from'
complete -c sq -n "__fish_sq_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "unset" -d 'Remove a key from the config file (or a secret from the credential store)'
complete -c sq -n "__fish_sq_using_subcommand help; and __fish_seen_subcommand_from sandbox" -f -a "serve" -d 'Serve an offline, stateful emulator of the Meta endpoints sq uses'
