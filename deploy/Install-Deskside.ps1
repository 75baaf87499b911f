#Requires -RunAsAdministrator
#Requires -Version 5.1
<#
.SYNOPSIS
    Installs Deskside as an IIS site (iisnode, Windows Authentication), or repairs an
    existing installation. Safe to run again: each step checks before it changes anything.

.DESCRIPTION
    1. Checks the server: IIS role services (Windows Authentication among them), URL Rewrite,
       iisnode's module registration, Node.js x64 at -NodePath, and that the release was
       built for this server (Windows x64, the same Node.js module ABI).
    2. Copies the release into -SitePath (stopping the app pool first if it runs), leaving
       App_Data, the iisnode logs and settings files alone.
    3. Creates the "No Managed Code" app pool and the site with its binding.
    4. Unlocks, for this site only, the two sections IIS locks by default:
       windowsAuthentication and anonymousAuthentication.
    5. Grants the pool identity read on the site and Modify on App_Data and iisnode.
    6. Writes the settings given as parameters into App_Data\settings.env, readable by the
       pool identity and Administrators only.
    7. Starts the site and checks it: anonymous /healthz is 200, /sign-in is 401 offering
       Negotiate, a forged X-iisnode-LOGON_USER header is refused with 400.

.EXAMPLE
    .\deploy\Install-Deskside.ps1 -HostName helpdesk.corp.example -Agents 'CORP\Helpdesk Agents' -Admins 'CORP\Deskside Admins'

.EXAMPLE
    $ldap = Read-Host -AsSecureString 'LDAP bind password'
    .\deploy\Install-Deskside.ps1 -HostName helpdesk.corp.example -Protocol https -CertificateThumbprint 0123456789ABCDEF0123456789ABCDEF01234567 -LdapUrl 'ldaps://dc1.corp.example' -LdapBindDn 'svc-deskside@corp.example' -LdapBindPassword $ldap -WhatIf
#>
[CmdletBinding(SupportsShouldProcess = $true)]
param(
    # The IIS site, and the app pool (one per site: iisnode's processes share it).
    [string]$SiteName = 'Deskside',
    [string]$AppPoolName = 'Deskside',

    # Where the site lives, and the release to put there (by default, the release this
    # script came with).
    [string]$SitePath = (Join-Path $env:SystemDrive 'Sites\Deskside'),
    [string]$ReleasePath = (Split-Path -Parent $PSScriptRoot),

    # The name people type; Kerberos needs an SPN for it (see README).
    [string]$HostName = [System.Net.Dns]::GetHostEntry([string]::Empty).HostName,
    [ValidateSet('http', 'https')]
    [string]$Protocol = 'http',
    [ValidateRange(0, 65535)]
    [int]$Port = 0,
    # For https: the certificate's thumbprint in LocalMachine\My.
    [string]$CertificateThumbprint,

    # A domain account for the pool (Kerberos across a farm, or SQL Server with
    # Trusted_Connection); by default the pool runs as IIS AppPool\<AppPoolName>.
    [pscredential]$AppPoolCredential,

    # The node.exe web.config and iisnode.yml name.
    [string]$NodePath = (Join-Path $env:ProgramFiles 'nodejs\node.exe'),

    # Site settings, written to App_Data\settings.env (README "Configuration"). Only the
    # ones given are written; the file keeps every other line.
    [string]$Agents,
    [string]$Admins,
    [ValidateSet('browse', 'none')]
    [string]$Anonymous,
    [string]$Database,
    [string]$LdapUrl,
    [string]$LdapBindDn,
    [securestring]$LdapBindPassword,
    [string]$LdapCaFile,

    # Skip the final HTTP checks (for a server whose host name does not resolve yet).
    [switch]$SkipChecks
)

$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'Deskside.psm1') -Force

if ($Port -eq 0) {
    $Port = if ($Protocol -eq 'https') { 443 } else { 80 }
}
if ($Protocol -eq 'https' -and -not $CertificateThumbprint) {
    throw 'An https binding needs -CertificateThumbprint (a certificate in LocalMachine\My for the host name).'
}
$poolIdentity = if ($AppPoolCredential) { $AppPoolCredential.UserName } else { "IIS AppPool\$AppPoolName" }
$ReleasePath = (Resolve-Path -LiteralPath $ReleasePath).Path

Write-Host '== Checking the server and the release'
Assert-DesksidePrerequisites -NodePath $NodePath
Assert-DesksideRelease -ReleasePath $ReleasePath -NodePath $NodePath

Write-Host "== Copying the release into $SitePath"
$samePlace = [string]::Equals($ReleasePath.TrimEnd('\'), $SitePath.TrimEnd('\'), [System.StringComparison]::OrdinalIgnoreCase)
if ($samePlace) {
    Write-Host 'The release is already there.'
} elseif ($PSCmdlet.ShouldProcess($SitePath, "mirror $ReleasePath")) {
    Stop-DesksidePool -Name $AppPoolName -SitePath $SitePath
    New-Item -ItemType Directory -Force -Path $SitePath | Out-Null
    Copy-DesksideRelease -ReleasePath $ReleasePath -SitePath $SitePath
} else {
    Copy-DesksideRelease -ReleasePath $ReleasePath -SitePath $SitePath -ListOnly
}

Write-Host "== App pool $AppPoolName"
if ($PSCmdlet.ShouldProcess($AppPoolName, 'create or update the app pool')) {
    if ($null -eq (Get-AppPoolState -Name $AppPoolName)) {
        Invoke-AppCmd -Arguments @('add', 'apppool', "/name:$AppPoolName") | Out-Null
    }
    # No Managed Code, integrated pipeline, 64-bit: %ProgramFiles% must be the 64-bit one.
    Invoke-AppCmd -Arguments @('set', 'apppool', "/apppool.name:$AppPoolName", '/managedRuntimeVersion:', '/managedPipelineMode:Integrated', '/enable32BitAppOnWin64:false') | Out-Null
    if ($AppPoolCredential) {
        $password = $AppPoolCredential.GetNetworkCredential().Password
        Invoke-AppCmd -Arguments @('set', 'apppool', "/apppool.name:$AppPoolName", '/processModel.identityType:SpecificUser', "/processModel.userName:$($AppPoolCredential.UserName)", "/processModel.password:$password") | Out-Null
    } else {
        Invoke-AppCmd -Arguments @('set', 'apppool', "/apppool.name:$AppPoolName", '/processModel.identityType:ApplicationPoolIdentity') | Out-Null
    }
}

Write-Host "== Site $SiteName ($Protocol on port $Port for $HostName)"
$binding = "*:${Port}:$HostName"
if ($PSCmdlet.ShouldProcess($SiteName, "create or update the site with binding $Protocol/$binding")) {
    $sites = Invoke-AppCmd -Arguments @('list', 'site', '/text:name') -AllowFailure
    if ($sites -notcontains $SiteName) {
        Invoke-AppCmd -Arguments @('add', 'site', "/name:$SiteName", "/physicalPath:$SitePath", "/bindings:$Protocol/$binding") | Out-Null
    }
    Invoke-AppCmd -Arguments @('set', 'app', "$SiteName/", "/applicationPool:$AppPoolName") | Out-Null
    Invoke-AppCmd -Arguments @('set', 'vdir', "$SiteName/", "/physicalPath:$SitePath") | Out-Null
    $bindings = "$(Invoke-AppCmd -Arguments @('list', 'site', $SiteName, '/text:bindings'))"
    if ($bindings -notmatch [regex]::Escape("$Protocol/$binding")) {
        $sslFlags = if ($Protocol -eq 'https') { '1' } else { '0' }
        Invoke-AppCmd -Arguments @('set', 'site', "/site.name:$SiteName", "/+bindings.[protocol='$Protocol',bindingInformation='$binding',sslFlags='$sslFlags']") | Out-Null
    }
    if ($Protocol -eq 'https') {
        # SNI binding: the certificate is registered with HTTP.sys for host:port (IIS's appid).
        & netsh.exe http show sslcert "hostnameport=${HostName}:$Port" | Out-Null
        if ($LASTEXITCODE -ne 0) {
            & netsh.exe http add sslcert "hostnameport=${HostName}:$Port" "certhash=$CertificateThumbprint" 'appid={4dc3e181-e14b-4a21-b022-59fc669b0914}' 'certstorename=MY' | Out-Null
            if ($LASTEXITCODE -ne 0) { throw "netsh could not bind certificate $CertificateThumbprint to ${HostName}:$Port" }
        }
    }
}

Write-Host '== Unlocking windowsAuthentication and anonymousAuthentication for this site'
if ($PSCmdlet.ShouldProcess($SiteName, 'unlock the two authentication sections')) {
    Invoke-AppCmd -Arguments @('unlock', 'config', $SiteName, '-section:system.webServer/security/authentication/windowsAuthentication', '/commit:apphost') | Out-Null
    Invoke-AppCmd -Arguments @('unlock', 'config', $SiteName, '-section:system.webServer/security/authentication/anonymousAuthentication', '/commit:apphost') | Out-Null
    if ($AppPoolCredential) {
        # Kernel-mode authentication decrypts Kerberos tickets with the computer account
        # unless told to use the pool's: needed when the SPN is on the pool's domain account.
        # applicationHost.config, not web.config: updates replace web.config.
        Invoke-AppCmd -Arguments @('set', 'config', $SiteName, '-section:system.webServer/security/authentication/windowsAuthentication', '/useAppPoolCredentials:true', '/commit:apphost') | Out-Null
    }
}

Write-Host "== Permissions for $poolIdentity"
if ($PSCmdlet.ShouldProcess($SitePath, "grant $poolIdentity read, and Modify on App_Data and iisnode")) {
    Grant-DesksideAccess -SitePath $SitePath -Identity $poolIdentity
}

$settings = [ordered]@{}
$fromParameters = [ordered]@{
    Agents     = 'DESKSIDE_AGENTS'
    Admins     = 'DESKSIDE_ADMINS'
    Anonymous  = 'DESKSIDE_ANONYMOUS'
    Database   = 'DESKSIDE_DATABASE'
    LdapUrl    = 'DESKSIDE_LDAP_URL'
    LdapBindDn = 'DESKSIDE_LDAP_BIND_DN'
    LdapCaFile = 'DESKSIDE_LDAP_CA_FILE'
}
foreach ($parameter in $fromParameters.Keys) {
    if ($PSBoundParameters.ContainsKey($parameter)) {
        $settings[$fromParameters[$parameter]] = [string]$PSBoundParameters[$parameter]
    }
}
if ($LdapBindPassword) {
    $settings['DESKSIDE_LDAP_BIND_PASSWORD'] = (New-Object System.Net.NetworkCredential('', $LdapBindPassword)).Password
}
$settingsFile = Join-Path $SitePath 'App_Data\settings.env'
Write-Host "== Site settings in $settingsFile ($(if ($settings.Count) { $settings.Keys -join ', ' } else { 'none given' }))"
if ($PSCmdlet.ShouldProcess($settingsFile, 'write the site settings and restrict the file to the pool identity and Administrators')) {
    Set-DesksideSettings -Path $settingsFile -Settings $settings -Identity $poolIdentity
}

Write-Host '== Starting the site'
if ($PSCmdlet.ShouldProcess($SiteName, 'start the app pool and the site')) {
    Assert-SiteConfiguration -SiteName $SiteName
    Start-DesksidePool -Name $AppPoolName
    $siteState = "$(Invoke-AppCmd -Arguments @('list', 'site', $SiteName, '/text:state'))".Trim()
    if ($siteState -ne 'Started') {
        Invoke-AppCmd -Arguments @('start', 'site', "/site.name:$SiteName") | Out-Null
    }
}

if ($AppPoolCredential) {
    Write-Host "Kerberos: the SPN for $HostName belongs on the pool's account. A domain admin runs, once:"
    Write-Host "    setspn -S HTTP/$HostName $($AppPoolCredential.UserName)"
} elseif ($HostName -notlike "$env:COMPUTERNAME*") {
    Write-Host "Kerberos: $HostName is not this computer's own name, so its SPN belongs on the computer account. A domain admin runs, once:"
    Write-Host "    setspn -S HTTP/$HostName $env:USERDOMAIN\$env:COMPUTERNAME$"
}

if ($SkipChecks -or $WhatIfPreference) {
    Write-Host '== Checks skipped'
} else {
    Write-Host '== Checking the site'
    Test-DesksideSite -BaseUri "${Protocol}://${HostName}:$Port/"
}
Write-Host 'Deskside is installed. Site settings: App_Data\settings.env (README "Configuration").'
