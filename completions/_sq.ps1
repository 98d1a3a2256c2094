
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'sq' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'sq'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'sq' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('diagnose', 'diagnose', [CompletionResultType]::ParameterValue, 'Say exactly why each profile can''t publish, and what fixes it')
            [CompletionResult]::new('reauth', 'reauth', [CompletionResultType]::ParameterValue, 'Re-authorize profiles in the browser and replace their stored tokens (`connect` the first time)')
            [CompletionResult]::new('connect', 'connect', [CompletionResultType]::ParameterValue, 'Re-authorize profiles in the browser and replace their stored tokens (`connect` the first time)')
            [CompletionResult]::new('requeue', 'requeue', [CompletionResultType]::ParameterValue, 'Put failed posts back on the queue, once their profile is healthy')
            [CompletionResult]::new('publish', 'publish', [CompletionResultType]::ParameterValue, 'Publish the posts that are due')
            [CompletionResult]::new('queue', 'queue', [CompletionResultType]::ParameterValue, 'Add, list, show and cancel posts on the local queue')
            [CompletionResult]::new('refresh', 'refresh', [CompletionResultType]::ParameterValue, 'Refresh Instagram Login and Threads tokens inside their refresh window')
            [CompletionResult]::new('profiles', 'profiles', [CompletionResultType]::ParameterValue, 'List or remove the connected profiles')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Import and print stored tokens')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Read and change sq''s settings')
            [CompletionResult]::new('sandbox', 'sandbox', [CompletionResultType]::ParameterValue, 'Run the offline Meta emulator')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Watch sq repair broken profiles, for real, on an offline Meta sandbox (no account needed)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sq;diagnose' {
            [CompletionResult]::new('--network', '--network', [CompletionResultType]::ParameterName, 'Only profiles of this network')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Read a token from standard input ("-") and diagnose it without storing anything')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--show-token', '--show-token', [CompletionResultType]::ParameterName, 'Also show each token''s details: type, scopes, granular targets (never the whole token: that is `sq token print`)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sq;reauth' {
            [CompletionResult]::new('--browser', '--browser', [CompletionResultType]::ParameterName, 'Open the URL with this command instead of $BROWSER or the system opener (%s is the URL; without it the URL is the last argument); used over SSH and without a display too')
            [CompletionResult]::new('--redirect-uri', '--redirect-uri', [CompletionResultType]::ParameterName, 'The redirect URI registered in the app [default: config <network>.redirect_uri, else redirect_uri, else http://localhost:8765/callback for Facebook and https://localhost:8765/callback for Instagram Login and Threads, which accept only https]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the browser, in seconds')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Ask for an extra permission too (repeatable; comma-separated lists work)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Connect every profile the login reaches that can publish (no prompt)')
            [CompletionResult]::new('--revoke', '--revoke', [CompletionResultType]::ParameterName, 'First revoke the app''s permissions for this login (Business Integrations → Remove)')
            [CompletionResult]::new('--no-browser', '--no-browser', [CompletionResultType]::ParameterName, 'Don''t launch a browser: print the URL and accept the pasted redirect address')
            [CompletionResult]::new('--via-page', '--via-page', [CompletionResultType]::ParameterName, 'instagram: reconnect through the linked Facebook Page')
            [CompletionResult]::new('--instagram-login', '--instagram-login', [CompletionResultType]::ParameterName, 'instagram: use Instagram Login (the Instagram app id and secret)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sq;connect' {
            [CompletionResult]::new('--browser', '--browser', [CompletionResultType]::ParameterName, 'Open the URL with this command instead of $BROWSER or the system opener (%s is the URL; without it the URL is the last argument); used over SSH and without a display too')
            [CompletionResult]::new('--redirect-uri', '--redirect-uri', [CompletionResultType]::ParameterName, 'The redirect URI registered in the app [default: config <network>.redirect_uri, else redirect_uri, else http://localhost:8765/callback for Facebook and https://localhost:8765/callback for Instagram Login and Threads, which accept only https]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the browser, in seconds')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Ask for an extra permission too (repeatable; comma-separated lists work)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Connect every profile the login reaches that can publish (no prompt)')
            [CompletionResult]::new('--revoke', '--revoke', [CompletionResultType]::ParameterName, 'First revoke the app''s permissions for this login (Business Integrations → Remove)')
            [CompletionResult]::new('--no-browser', '--no-browser', [CompletionResultType]::ParameterName, 'Don''t launch a browser: print the URL and accept the pasted redirect address')
            [CompletionResult]::new('--via-page', '--via-page', [CompletionResultType]::ParameterName, 'instagram: reconnect through the linked Facebook Page')
            [CompletionResult]::new('--instagram-login', '--instagram-login', [CompletionResultType]::ParameterName, 'instagram: use Instagram Login (the Instagram app id and secret)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sq;requeue' {
            [CompletionResult]::new('--network', '--network', [CompletionResultType]::ParameterName, 'Only posts of this network')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only posts that failed within this long (e.g. 24h, 7d)')
            [CompletionResult]::new('--class', '--class', [CompletionResultType]::ParameterName, 'Only these failure classes (repeatable). Default: auth, rate_limit, transient, unknown')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'When the posts go out: now, or their original time when that is still ahead')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--failed', '--failed', [CompletionResultType]::ParameterName, 'Select failed posts (by profile and the filters below)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be requeued and held; change nothing')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Requeue without the health check (posts of a broken profile will fail again)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sq;publish' {
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Time between passes with --watch (e.g. 30s, 1m, 5m)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Publish at most N posts in this run (per pass with --watch)')
            [CompletionResult]::new('--lease', '--lease', [CompletionResultType]::ParameterName, 'How long a claim on a post lasts without a heartbeat before another run treats its process as dead (tests use a short one)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Keep running: publish due posts every --interval until stopped (Ctrl-C / SIGTERM stop it cleanly)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be published; send nothing, change nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sq;queue' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Put a post on the queue for one profile')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List posts on the queue (due first)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one post with its history')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Cancel a queued, failed or unknown post')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sq;queue;add' {
            [CompletionResult]::new('--text', '--text', [CompletionResultType]::ParameterName, 'The post''s text (caption on Instagram)')
            [CompletionResult]::new('--link', '--link', [CompletionResultType]::ParameterName, 'A link to share (Facebook only)')
            [CompletionResult]::new('--image-url', '--image-url', [CompletionResultType]::ParameterName, 'A public image URL (one per post for now)')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'When to publish: now, +30m, +2h, +1d, or an RFC 3339 time (2026-11-20T08:00:00Z)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sq;queue;list' {
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Only posts in this state (repeatable)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sq;queue;show' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sq;queue;cancel' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sq;queue;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Put a post on the queue for one profile')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List posts on the queue (due first)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one post with its history')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Cancel a queued, failed or unknown post')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sq;queue;help;add' {
            break
        }
        'sq;queue;help;list' {
            break
        }
        'sq;queue;help;show' {
            break
        }
        'sq;queue;help;cancel' {
            break
        }
        'sq;queue;help;help' {
            break
        }
        'sq;refresh' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sq;profiles' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List profiles: kind, name, reference, connection, token source and masked token, expiry')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a profile and the secrets only it uses')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sq;profiles;list' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sq;profiles;remove' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sq;profiles;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List profiles: kind, name, reference, connection, token source and masked token, expiry')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a profile and the secrets only it uses')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sq;profiles;help;list' {
            break
        }
        'sq;profiles;help;remove' {
            break
        }
        'sq;profiles;help;help' {
            break
        }
        'sq;token' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Store a token you already have (read from standard input), like `gh auth login --with-token`')
            [CompletionResult]::new('print', 'print', [CompletionResultType]::ParameterValue, 'Print a profile''s whole token on stdout (the only command that does)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sq;token;import' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sq;token;print' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sq;token;help' {
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Store a token you already have (read from standard input), like `gh auth login --with-token`')
            [CompletionResult]::new('print', 'print', [CompletionResultType]::ParameterValue, 'Print a profile''s whole token on stdout (the only command that does)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sq;token;help;import' {
            break
        }
        'sq;token;help;print' {
            break
        }
        'sq;token;help;help' {
            break
        }
        'sq;config' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set a key (secrets only with --stdin)')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print a key''s value (secrets masked); exit 1 when it is not set')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List every key with its value and where it comes from')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Remove a key from the config file (or a secret from the credential store)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sq;config;set' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--stdin', '--stdin', [CompletionResultType]::ParameterName, 'Read the value from standard input (the first line)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sq;config;get' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sq;config;list' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sq;config;unset' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sq;config;help' {
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set a key (secrets only with --stdin)')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print a key''s value (secrets masked); exit 1 when it is not set')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List every key with its value and where it comes from')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Remove a key from the config file (or a secret from the credential store)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sq;config;help;set' {
            break
        }
        'sq;config;help;get' {
            break
        }
        'sq;config;help;list' {
            break
        }
        'sq;config;help;unset' {
            break
        }
        'sq;config;help;help' {
            break
        }
        'sq;sandbox' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Serve an offline, stateful emulator of the Meta endpoints sq uses')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sq;sandbox;serve' {
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port on 127.0.0.1 (0 picks a free one)')
            [CompletionResult]::new('--scenario', '--scenario', [CompletionResultType]::ParameterName, 'A built-in scenario name or a JSON scenario file')
            [CompletionResult]::new('--latency-ms', '--latency-ms', [CompletionResultType]::ParameterName, 'Latency added to every answer, in milliseconds')
            [CompletionResult]::new('--port-file', '--port-file', [CompletionResultType]::ParameterName, 'Write the chosen port to this file once listening (for scripts)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sq;sandbox;help' {
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Serve an offline, stateful emulator of the Meta endpoints sq uses')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sq;sandbox;help;serve' {
            break
        }
        'sq;sandbox;help;help' {
            break
        }
        'sq;demo' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sq;completions' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use color (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: <config dir>/config.toml]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (also on failure: {"error":{...}}); human text goes to stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more); secrets are always masked')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; where an answer is needed, fail with a hint naming the flag [env: SQ_NO_PROMPT]')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sq;help' {
            [CompletionResult]::new('diagnose', 'diagnose', [CompletionResultType]::ParameterValue, 'Say exactly why each profile can''t publish, and what fixes it')
            [CompletionResult]::new('reauth', 'reauth', [CompletionResultType]::ParameterValue, 'Re-authorize profiles in the browser and replace their stored tokens (`connect` the first time)')
            [CompletionResult]::new('requeue', 'requeue', [CompletionResultType]::ParameterValue, 'Put failed posts back on the queue, once their profile is healthy')
            [CompletionResult]::new('publish', 'publish', [CompletionResultType]::ParameterValue, 'Publish the posts that are due')
            [CompletionResult]::new('queue', 'queue', [CompletionResultType]::ParameterValue, 'Add, list, show and cancel posts on the local queue')
            [CompletionResult]::new('refresh', 'refresh', [CompletionResultType]::ParameterValue, 'Refresh Instagram Login and Threads tokens inside their refresh window')
            [CompletionResult]::new('profiles', 'profiles', [CompletionResultType]::ParameterValue, 'List or remove the connected profiles')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Import and print stored tokens')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Read and change sq''s settings')
            [CompletionResult]::new('sandbox', 'sandbox', [CompletionResultType]::ParameterValue, 'Run the offline Meta emulator')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Watch sq repair broken profiles, for real, on an offline Meta sandbox (no account needed)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sq;help;diagnose' {
            break
        }
        'sq;help;reauth' {
            break
        }
        'sq;help;requeue' {
            break
        }
        'sq;help;publish' {
            break
        }
        'sq;help;queue' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Put a post on the queue for one profile')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List posts on the queue (due first)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one post with its history')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Cancel a queued, failed or unknown post')
            break
        }
        'sq;help;queue;add' {
            break
        }
        'sq;help;queue;list' {
            break
        }
        'sq;help;queue;show' {
            break
        }
        'sq;help;queue;cancel' {
            break
        }
        'sq;help;refresh' {
            break
        }
        'sq;help;profiles' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List profiles: kind, name, reference, connection, token source and masked token, expiry')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a profile and the secrets only it uses')
            break
        }
        'sq;help;profiles;list' {
            break
        }
        'sq;help;profiles;remove' {
            break
        }
        'sq;help;token' {
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Store a token you already have (read from standard input), like `gh auth login --with-token`')
            [CompletionResult]::new('print', 'print', [CompletionResultType]::ParameterValue, 'Print a profile''s whole token on stdout (the only command that does)')
            break
        }
        'sq;help;token;import' {
            break
        }
        'sq;help;token;print' {
            break
        }
        'sq;help;config' {
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set a key (secrets only with --stdin)')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print a key''s value (secrets masked); exit 1 when it is not set')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List every key with its value and where it comes from')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Remove a key from the config file (or a secret from the credential store)')
            break
        }
        'sq;help;config;set' {
            break
        }
        'sq;help;config;get' {
            break
        }
        'sq;help;config;list' {
            break
        }
        'sq;help;config;unset' {
            break
        }
        'sq;help;sandbox' {
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Serve an offline, stateful emulator of the Meta endpoints sq uses')
            break
        }
        'sq;help;sandbox;serve' {
            break
        }
        'sq;help;demo' {
            break
        }
        'sq;help;completions' {
            break
        }
        'sq;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
