; Inno Setup 6 script: the Windows installer for Flourish.
;
; Build on Windows, from the repository root, after the PyInstaller build
; (packaging/README.md, "Windows"):
;
;   .venv\Scripts\python packaging\make_icons.py build\icons
;   set FLOURISH_ICON_DIR=%CD%\build\icons
;   .venv\Scripts\python -m PyInstaller --noconfirm --distpath dist --workpath build\pyinstaller packaging\flourish.spec
;   "%ProgramFiles(x86)%\Inno Setup 6\ISCC.exe" /DAppVersion=0.1.0 packaging\windows\flourish.iss
;
; Output: dist\flourish-<version>-windows-x64-setup.exe. AppVersion must be pyproject.toml's
; version (the program itself reports the version from its bundled package metadata).
;
; The program goes to Program Files (per machine) or %LOCALAPPDATA%\Programs (per user, when
; the person installing is not an administrator) and is only ever read there: teachers' data
; lives in %LOCALAPPDATA%\Flourish\Flourish and secrets in the Windows Credential Manager, so
; uninstalling keeps them.

#ifndef AppVersion
  #error Pass the version: ISCC /DAppVersion=X.Y.Z packaging\windows\flourish.iss
#endif

#define AppName "Flourish"
#define AppPublisher "Flourish developers"
#define Root "..\.."

[Setup]
; Never change AppId: Windows recognises upgrades of the same application by it.
AppId={{1AD86AB0-7B55-4DE5-9E4A-5C75F60350AF}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppPublisher}
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\Flourish
DefaultGroupName=Flourish
DisableProgramGroupPage=yes
PrivilegesRequired=admin
PrivilegesRequiredOverridesAllowed=dialog commandline
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#Root}\dist
OutputBaseFilename=flourish-{#AppVersion}-windows-x64-setup
SetupIconFile={#Root}\build\icons\flourish.ico
UninstallDisplayIcon={app}\flourishw.exe
UninstallDisplayName={#AppName} {#AppVersion}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes
; Code signing (placeholder). Define a sign tool named "signtool" once, in the Inno Setup
; IDE (Tools > Configure Sign Tools) or on the command line:
;   ISCC /Ssigntool="signtool.exe sign /fd sha256 /td sha256 /tr <your CA's timestamp URL> /f <certificate.pfx> /p <password> $f" ...
; then uncomment both lines. Sign dist\flourish\*.exe the same way before running ISCC
; (packaging/README.md).
; SignTool=signtool
; SignedUninstaller=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The one-folder PyInstaller build: flourish.exe (console: `flourish sync`, `flourish
; server init`, ...), flourishw.exe (the same program without a console window) and
; _internal\.
Source: "{#Root}\dist\flourish\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; An upgrade replaces the bundle whole: no module of an older version may linger.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\Flourish"; Filename: "{app}\flourishw.exe"; Parameters: "app"; Comment: "Review students' skill assessments"
Name: "{autodesktop}\Flourish"; Filename: "{app}\flourishw.exe"; Parameters: "app"; Tasks: desktopicon

[Run]
Filename: "{app}\flourishw.exe"; Parameters: "app"; Description: "{cm:LaunchProgram,Flourish}"; Flags: nowait postinstall skipifsilent
