# Shared by Install-Deskside.ps1 and Update-Deskside.ps1: checks of the server and the
# release, the app pool's stop and start, the copy, the settings file and the final checks.
# Functions throw with a message that names the fix; the scripts decide what to run (and
# honour -WhatIf), these only do it.

Set-StrictMode -Version 3.0

$script:AppCmd = Join-Path $env:windir 'system32\inetsrv\appcmd.exe'

# Deskside's own engines range (package.json): Node 20.12 or later, below 23.
$script:NodeMajors = @(20, 22)

function Invoke-AppCmd {
    # appcmd.exe with the given arguments; its output, or a throw naming what failed.
    param([Parameter(Mandatory)][string[]]$Arguments, [switch]$AllowFailure)
    $output = & $script:AppCmd @Arguments 2>&1 | ForEach-Object { "$_" }
    if ($LASTEXITCODE -ne 0 -and -not $AllowFailure) {
        throw "appcmd $($Arguments -join ' ') failed ($LASTEXITCODE):`n$($output -join "`n")"
    }
    return $output
}

function Get-NodeRuntime {
    # Version, module ABI and architecture of the node.exe iisnode will start.
    param([Parameter(Mandatory)][string]$NodePath)
    if (-not (Test-Path -LiteralPath $NodePath -PathType Leaf)) {
        throw "Node.js is not at $NodePath (the path web.config and iisnode.yml name). Install Node.js 20 or 22 LTS (x64) for all users."
    }
    $line = & $NodePath -p "process.versions.node + ' ' + process.versions.modules + ' ' + process.arch"
    $parts = "$line".Trim() -split ' '
    return [pscustomobject]@{ Version = [version]$parts[0]; Abi = $parts[1]; Arch = $parts[2] }
}

function Get-NativeFormat {
    # Which operating system a compiled .node file is for, from its first bytes.
    param([Parameter(Mandatory)][string]$Path)
    $stream = [System.IO.File]::OpenRead($Path)
    try {
        $head = New-Object byte[] 4
        [void]$stream.Read($head, 0, 4)
    } finally {
        $stream.Dispose()
    }
    if ($head[0] -eq 0x4D -and $head[1] -eq 0x5A) { return 'win32' }
    if ($head[0] -eq 0x7F -and $head[1] -eq 0x45 -and $head[2] -eq 0x4C -and $head[3] -eq 0x46) { return 'linux' }
    return 'other'
}

function Assert-DesksideRelease {
    # The release must be built for this server: Windows x64 and the module ABI of the node
    # at $NodePath (better-sqlite3 is compiled code; another ABI does not load).
    param([Parameter(Mandatory)][string]$ReleasePath, [Parameter(Mandatory)][string]$NodePath)
    foreach ($file in 'server.js', 'web.config', 'iisnode.yml', 'dist\server.js') {
        if (-not (Test-Path -LiteralPath (Join-Path $ReleasePath $file))) {
            throw "$ReleasePath is not a Deskside release: $file is missing. Build one with 'npm run package' on Windows, or see README 'Deploying to IIS'."
        }
    }
    $node = Get-NodeRuntime -NodePath $NodePath
    $manifestPath = Join-Path $ReleasePath 'release.json'
    if (Test-Path -LiteralPath $manifestPath) {
        $manifest = Get-Content -LiteralPath $manifestPath -Raw | ConvertFrom-Json
        if ($manifest.platform -ne 'win32' -or $manifest.arch -ne 'x64') {
            throw "This release was built for $($manifest.platform)-$($manifest.arch); IIS needs a win32-x64 release. Build it on Windows x64 ('npm run package')."
        }
        if ("$($manifest.nodeAbi)" -ne "$($node.Abi)") {
            throw "This release was built for Node.js module ABI $($manifest.nodeAbi) (Node $($manifest.nodeVersion)); $NodePath is Node $($node.Version) (ABI $($node.Abi)). Build with the same Node major as the server."
        }
    }
    $sqlite = Join-Path $ReleasePath 'node_modules\better-sqlite3\build\Release\better_sqlite3.node'
    if (-not (Test-Path -LiteralPath $sqlite)) {
        throw "$sqlite is missing: the release has no compiled SQLite driver. Run 'npm ci --omit=dev' in it on Windows, or use 'npm run package'."
    }
    $format = Get-NativeFormat -Path $sqlite
    if ($format -ne 'win32') {
        throw "$sqlite is compiled for $format, not Windows: this release was built on another system. Build it on Windows ('npm run package')."
    }
}

function Assert-DesksidePrerequisites {
    # IIS with the role services Deskside needs, URL Rewrite, iisnode and Node.js x64.
    param([Parameter(Mandatory)][string]$NodePath)
    if (-not (Test-Path -LiteralPath $script:AppCmd)) {
        throw 'IIS is not installed: Install-WindowsFeature Web-Server, Web-Windows-Auth, Web-Filtering, Web-Static-Content, Web-Http-Errors -IncludeManagementTools'
    }
    $problems = New-Object System.Collections.Generic.List[string]
    if (Get-Command Get-WindowsFeature -ErrorAction SilentlyContinue) {
        $wanted = @('Web-Server', 'Web-Static-Content', 'Web-Http-Errors', 'Web-Filtering', 'Web-Windows-Auth')
        foreach ($feature in Get-WindowsFeature -Name $wanted) {
            if (-not $feature.Installed) {
                $problems.Add("the role service '$($feature.DisplayName)' is missing: Install-WindowsFeature $($feature.Name)")
            }
        }
    } else {
        $wanted = @('IIS-WebServer', 'IIS-StaticContent', 'IIS-HttpErrors', 'IIS-RequestFiltering', 'IIS-WindowsAuthentication')
        foreach ($name in $wanted) {
            $feature = Get-WindowsOptionalFeature -Online -FeatureName $name
            if ($feature.State -ne 'Enabled') {
                $problems.Add("the IIS feature $name is missing: Enable-WindowsOptionalFeature -Online -FeatureName $name")
            }
        }
    }
    $modules = (Invoke-AppCmd -Arguments @('list', 'config', '-section:system.webServer/globalModules')) -join "`n"
    $needed = [ordered]@{
        'WindowsAuthenticationModule' = 'the Windows Authentication role service'
        'RewriteModule'               = 'URL Rewrite 2.1 (https://www.iis.net/downloads/microsoft/url-rewrite)'
        'iisnode'                     = 'iisnode for IIS x64 (https://github.com/Azure/iisnode/releases)'
    }
    foreach ($name in $needed.Keys) {
        if ($modules -notmatch "name=""$name""") {
            $problems.Add("IIS has no module '$name': install $($needed[$name])")
        }
    }
    $schema = Join-Path $env:windir 'system32\inetsrv\config\schema\iisnode_schema.xml'
    $interceptor = Join-Path $env:ProgramFiles 'iisnode\interceptor.js'
    foreach ($file in $schema, $interceptor) {
        if (-not (Test-Path -LiteralPath $file)) {
            $problems.Add("$file is missing: reinstall iisnode for IIS x64")
        }
    }
    try {
        $node = Get-NodeRuntime -NodePath $NodePath
        if ($script:NodeMajors -notcontains $node.Version.Major -or $node.Version -lt [version]'20.12.0') {
            $problems.Add("$NodePath is Node.js $($node.Version); Deskside needs 20.12 or later, or 22")
        }
        if ($node.Arch -ne 'x64') {
            $problems.Add("$NodePath is a $($node.Arch) build; install the x64 one (IIS runs 64-bit worker processes)")
        }
    } catch {
        $problems.Add($_.Exception.Message)
    }
    if ($problems.Count -gt 0) {
        throw "This server is not ready for Deskside:`n - $($problems -join "`n - ")"
    }
}

function Get-AppPoolState {
    # 'Started', 'Stopped', ... or $null when there is no such pool.
    param([Parameter(Mandatory)][string]$Name)
    $names = Invoke-AppCmd -Arguments @('list', 'apppool', '/text:name') -AllowFailure
    if ($names -notcontains $Name) { return $null }
    return "$(Invoke-AppCmd -Arguments @('list', 'apppool', $Name, '/text:state'))".Trim()
}

function Stop-DesksidePool {
    # Stops the pool and waits until its worker processes, and the node processes iisnode
    # started for the site, are gone: until then the loaded SQLite driver cannot be replaced.
    param([Parameter(Mandatory)][string]$Name, [Parameter(Mandatory)][string]$SitePath, [int]$TimeoutSeconds = 120)
    $state = Get-AppPoolState -Name $Name
    if ($null -eq $state) { return }
    if ($state -ne 'Stopped') {
        Invoke-AppCmd -Arguments @('stop', 'apppool', "/apppool.name:$Name") | Out-Null
    }
    $deadline = (Get-Date).AddSeconds($TimeoutSeconds)
    do {
        $workers = @(Invoke-AppCmd -Arguments @('list', 'wp', "/apppool.name:$Name") -AllowFailure | Where-Object { $_ -match '^WP ' })
        $nodes = @(Get-CimInstance Win32_Process -Filter "Name = 'node.exe'" | Where-Object { $_.CommandLine -and $_.CommandLine.IndexOf($SitePath, [System.StringComparison]::OrdinalIgnoreCase) -ge 0 })
        if ($workers.Count -eq 0 -and $nodes.Count -eq 0) { return }
        Start-Sleep -Seconds 1
    } while ((Get-Date) -lt $deadline)
    throw "The app pool '$Name' still has $($workers.Count) worker and $($nodes.Count) node process(es) after $TimeoutSeconds s; stop them (Task Manager, or Stop-Process) and run again."
}

function Start-DesksidePool {
    param([Parameter(Mandatory)][string]$Name)
    if ((Get-AppPoolState -Name $Name) -ne 'Started') {
        Invoke-AppCmd -Arguments @('start', 'apppool', "/apppool.name:$Name") | Out-Null
    }
}

function Copy-DesksideRelease {
    # Mirrors the release into the site folder, leaving the site's own files alone:
    # App_Data (database, secret, settings.env), the iisnode logs and any .env.
    param([Parameter(Mandatory)][string]$ReleasePath, [Parameter(Mandatory)][string]$SitePath, [switch]$ListOnly)
    $arguments = @(
        $ReleasePath, $SitePath, '/MIR',
        '/XD', (Join-Path $SitePath 'App_Data'), (Join-Path $SitePath 'iisnode'), (Join-Path $ReleasePath 'App_Data'), (Join-Path $ReleasePath 'iisnode'),
        '/XF', 'settings.env', '.env',
        '/R:3', '/W:2', '/NP', '/NDL'
    )
    if ($ListOnly) { $arguments += '/L' }
    & robocopy.exe @arguments | Write-Host
    # robocopy: 0-7 report what was copied; 8 and above mean something failed.
    if ($LASTEXITCODE -ge 8) {
        throw "Copying the release failed (robocopy exit code $LASTEXITCODE); the site folder may be incomplete. Fix the cause and run again."
    }
}

function Grant-DesksideAccess {
    # The pool identity reads the site and writes App_Data and the iisnode log folder.
    param([Parameter(Mandatory)][string]$SitePath, [Parameter(Mandatory)][string]$Identity)
    foreach ($folder in 'App_Data', 'iisnode') {
        New-Item -ItemType Directory -Force -Path (Join-Path $SitePath $folder) | Out-Null
    }
    $grants = @(
        @($SitePath, "${Identity}:(OI)(CI)RX"),
        @((Join-Path $SitePath 'App_Data'), "${Identity}:(OI)(CI)M"),
        @((Join-Path $SitePath 'iisnode'), "${Identity}:(OI)(CI)M")
    )
    foreach ($grant in $grants) {
        & icacls.exe $grant[0] /grant $grant[1] /Q | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "icacls could not grant $($grant[1]) on $($grant[0])" }
    }
}

function ConvertTo-SettingsLine {
    # KEY=value in the syntax Node's process.loadEnvFile reads: single quotes keep a value
    # verbatim; backticks when it holds a single quote; double quotes expand \n, so last.
    param([Parameter(Mandatory)][string]$Key, [Parameter(Mandatory)][AllowEmptyString()][string]$Value)
    if ($Value -match "[`r`n]") { throw "$Key cannot hold a line break" }
    if (-not $Value.Contains("'")) { return "$Key='$Value'" }
    if (-not $Value.Contains('`')) { return "$Key=``$Value``" }
    if (-not $Value.Contains('"') -and -not $Value.Contains('\n')) { return "$Key=""$Value""" }
    throw "$Key holds ', "" and `` together; write it into settings.env by hand"
}

function Set-DesksideSettings {
    # Sets the given keys in settings.env (replacing their lines, keeping every other line)
    # and leaves the file readable by the pool identity and Administrators only.
    param(
        [Parameter(Mandatory)][string]$Path,
        [System.Collections.IDictionary]$Settings = @{},
        [Parameter(Mandatory)][string]$Identity
    )
    $lines = New-Object System.Collections.Generic.List[string]
    if (Test-Path -LiteralPath $Path) {
        foreach ($line in [System.IO.File]::ReadAllLines($Path)) { $lines.Add($line) }
    } else {
        $lines.Add('# Deskside settings for this site, one per line (README "Configuration").')
        $lines.Add('# Updates never replace this file; saving it restarts Deskside.')
    }
    foreach ($key in $Settings.Keys) {
        $line = ConvertTo-SettingsLine -Key $key -Value $Settings[$key]
        $pattern = '^\s*(export\s+)?' + [regex]::Escape($key) + '\s*='
        $at = -1
        for ($i = 0; $i -lt $lines.Count; $i++) {
            if ($lines[$i] -match $pattern) { $at = $i }
        }
        if ($at -ge 0) { $lines[$at] = $line } else { $lines.Add($line) }
    }
    # UTF-8 without a byte order mark: a BOM would become part of the first key.
    [System.IO.File]::WriteAllLines($Path, $lines.ToArray(), (New-Object System.Text.UTF8Encoding($false)))
    & icacls.exe $Path /inheritance:r /grant:r '*S-1-5-32-544:(F)' "${Identity}:(R)" /Q | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "icacls could not restrict $Path to Administrators and $Identity" }
}

function Assert-SiteConfiguration {
    # appcmd reads every section the site's web.config sets, so a configuration error
    # (a locked section, a duplicate entry, an unknown attribute) shows here with its line.
    param([Parameter(Mandatory)][string]$SiteName)
    $result = Invoke-AppCmd -Arguments @('list', 'config', "$SiteName/") -AllowFailure
    if ($LASTEXITCODE -ne 0 -or ($result -join "`n") -match 'ERROR \(') {
        throw "IIS cannot read the site's configuration (every request would be 500.19):`n$($result -join "`n")"
    }
}

function Invoke-DesksideProbe {
    # One anonymous GET, without following redirects; status and offered auth schemes.
    param([Parameter(Mandatory)][uri]$Uri, [hashtable]$Headers = @{})
    Add-Type -AssemblyName System.Net.Http
    $handler = New-Object System.Net.Http.HttpClientHandler
    $handler.UseDefaultCredentials = $false
    $handler.AllowAutoRedirect = $false
    $client = New-Object System.Net.Http.HttpClient($handler)
    $client.Timeout = [TimeSpan]::FromSeconds(60)
    try {
        $request = New-Object System.Net.Http.HttpRequestMessage([System.Net.Http.HttpMethod]::Get, $Uri)
        foreach ($name in $Headers.Keys) {
            [void]$request.Headers.TryAddWithoutValidation($name, [string]$Headers[$name])
        }
        $response = $client.SendAsync($request).GetAwaiter().GetResult()
        $schemes = @($response.Headers.WwwAuthenticate | ForEach-Object { $_.Scheme })
        return [pscustomobject]@{ Status = [int]$response.StatusCode; Schemes = $schemes }
    } finally {
        $client.Dispose()
    }
}

function Test-DesksideSite {
    # What an administrator would try first, against the site's binding: a guest gets
    # /healthz, /sign-in asks for Windows sign-in, a forged identity header is refused.
    param([Parameter(Mandatory)][uri]$BaseUri, [int]$StartTimeoutSeconds = 90)
    $health = New-Object System.Uri($BaseUri, 'healthz')
    $deadline = (Get-Date).AddSeconds($StartTimeoutSeconds)
    do {
        try {
            $probe = Invoke-DesksideProbe -Uri $health
        } catch {
            $probe = [pscustomobject]@{ Status = 0; Schemes = @(); Error = $_.Exception.Message }
        }
        if ($probe.Status -eq 200) { break }
        # The first request starts node and runs migrations; give it time.
        Start-Sleep -Seconds 2
    } while ((Get-Date) -lt $deadline)

    $signIn = Invoke-DesksideProbe -Uri (New-Object System.Uri($BaseUri, 'sign-in'))
    $forged = Invoke-DesksideProbe -Uri $health -Headers @{ 'X-iisnode-LOGON_USER' = 'CORP\forged' }
    $checks = @(
        [pscustomobject]@{ Check = 'anonymous GET /healthz'; Expected = '200'; Got = "$($probe.Status)"; Ok = $probe.Status -eq 200 }
        [pscustomobject]@{ Check = 'GET /sign-in'; Expected = '401 offering Negotiate'; Got = "$($signIn.Status) $($signIn.Schemes -join ',')"; Ok = $signIn.Status -eq 401 -and $signIn.Schemes -contains 'Negotiate' }
        [pscustomobject]@{ Check = 'forged X-iisnode-LOGON_USER'; Expected = '400'; Got = "$($forged.Status)"; Ok = $forged.Status -eq 400 }
    )
    $checks | Format-Table -AutoSize | Out-String | Write-Host
    $failed = @($checks | Where-Object { -not $_.Ok })
    if ($failed.Count -gt 0) {
        throw "Deskside does not answer as it should ($(($failed | ForEach-Object { $_.Check }) -join '; ')). README 'Deploying to IIS' has a table by status code; the node logs are in the site's iisnode folder."
    }
}

Export-ModuleMember -Function @(
    'Invoke-AppCmd',
    'Get-NodeRuntime',
    'Assert-DesksideRelease',
    'Assert-DesksidePrerequisites',
    'Get-AppPoolState',
    'Stop-DesksidePool',
    'Start-DesksidePool',
    'Copy-DesksideRelease',
    'Grant-DesksideAccess',
    'Set-DesksideSettings',
    'Assert-SiteConfiguration',
    'Test-DesksideSite'
)
