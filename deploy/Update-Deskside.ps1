#Requires -RunAsAdministrator
#Requires -Version 5.1
<#
.SYNOPSIS
    Replaces an installed Deskside with a new release, keeping the site's own files.

.DESCRIPTION
    1. Checks that the release was built for this server (Windows x64, the module ABI of
       the node.exe iisnode starts).
    2. Stops the app pool and waits until its worker processes and node processes are gone:
       the compiled SQLite driver they load cannot be overwritten before.
    3. Mirrors the release into the site folder (robocopy /MIR), leaving App_Data (database,
       secret, settings.env), the iisnode logs and any .env untouched.
    4. Starts the app pool; Deskside applies database migrations as it starts.
    5. Checks the site: anonymous /healthz is 200, /sign-in is 401 offering Negotiate, a
       forged X-iisnode-LOGON_USER header is refused with 400.

    With -WhatIf nothing is stopped or changed: robocopy lists what it would copy and delete.

.EXAMPLE
    .\Update-Deskside.ps1 -ReleasePath D:\Releases\deskside-0.2.0-win32-x64-node-abi115 -WhatIf
    .\Update-Deskside.ps1 -ReleasePath D:\Releases\deskside-0.2.0-win32-x64-node-abi115
#>
[CmdletBinding(SupportsShouldProcess = $true)]
param(
    # The new release: a folder made by 'npm run package' on Windows.
    [Parameter(Mandatory = $true)]
    [string]$ReleasePath,

    [string]$SiteName = 'Deskside',
    [string]$AppPoolName = 'Deskside',

    # The site folder; by default the one IIS has for the site.
    [string]$SitePath,

    # The node.exe web.config and iisnode.yml name.
    [string]$NodePath = (Join-Path $env:ProgramFiles 'nodejs\node.exe'),

    # Where to check the site; by default its first binding.
    [uri]$BaseUri,

    # How long to wait for the worker processes to exit.
    [int]$StopTimeoutSeconds = 120,

    # Skip the final HTTP checks.
    [switch]$SkipChecks
)

$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'Deskside.psm1') -Force

$ReleasePath = (Resolve-Path -LiteralPath $ReleasePath).Path
if (-not $SitePath) {
    $SitePath = [System.Environment]::ExpandEnvironmentVariables("$(Invoke-AppCmd -Arguments @('list', 'vdir', "$SiteName/", '/text:physicalPath'))".Trim())
}
if (-not (Test-Path -LiteralPath (Join-Path $SitePath 'web.config'))) {
    throw "$SitePath has no Deskside installation; run Install-Deskside.ps1 first."
}
if (-not $BaseUri) {
    # First binding, e.g. http/*:80:helpdesk.corp.example or https/*:443:
    $first = ("$(Invoke-AppCmd -Arguments @('list', 'site', $SiteName, '/text:bindings'))".Trim() -split ',')[0]
    if ($first -notmatch '^(?<protocol>https?)/(?<address>[^:]*):(?<port>\d+):(?<host>.*)$') {
        throw "Cannot tell where to check the site from its binding '$first'; pass -BaseUri."
    }
    $checkHost = if ($Matches['host']) { $Matches['host'] } else { 'localhost' }
    $BaseUri = "$($Matches['protocol'])://${checkHost}:$($Matches['port'])/"
}

Write-Host "== Checking the release $ReleasePath"
Assert-DesksideRelease -ReleasePath $ReleasePath -NodePath $NodePath

if (-not $PSCmdlet.ShouldProcess("$SiteName ($SitePath)", "stop $AppPoolName, mirror $ReleasePath, start it again")) {
    Write-Host "== What would change in $SitePath (nothing is copied or deleted)"
    Copy-DesksideRelease -ReleasePath $ReleasePath -SitePath $SitePath -ListOnly
    return
}

Write-Host "== Stopping $AppPoolName"
Stop-DesksidePool -Name $AppPoolName -SitePath $SitePath -TimeoutSeconds $StopTimeoutSeconds

Write-Host "== Copying the release into $SitePath"
try {
    Copy-DesksideRelease -ReleasePath $ReleasePath -SitePath $SitePath
} catch {
    Write-Warning "The copy failed; the app pool stays stopped so that no half-copied release serves requests."
    throw
}

Write-Host "== Starting $AppPoolName"
Assert-SiteConfiguration -SiteName $SiteName
Start-DesksidePool -Name $AppPoolName

if ($SkipChecks) {
    Write-Host '== Checks skipped'
} else {
    Write-Host "== Checking $BaseUri"
    Test-DesksideSite -BaseUri $BaseUri
}
Write-Host 'Deskside is updated.'
