; NSIS script for the M3Ret Viewer Windows installer: a per-user install (no
; administrator rights) into %LOCALAPPDATA%\Programs\M3Ret Viewer, a
; Start-menu shortcut, an uninstaller registered under HKCU.
; makensis -DVERSION=x.y.z -DSTAGE=dir -DOUTFILE=setup.exe installer.nsi
Target amd64-unicode ; a 64-bit installer for a 64-bit application
SetCompressor /SOLID lzma
RequestExecutionLevel user

!define APPNAME "M3Ret Viewer"
!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\io.github.m3ret.viewer"

Name "${APPNAME} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${APPNAME}"
InstallDirRegKey HKCU "Software\${APPNAME}" "InstallDir"
Icon "${STAGE}\m3ret.ico"
UninstallIcon "${STAGE}\m3ret.ico"
VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${APPNAME}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${APPNAME} installer"
VIAddVersionKey "LegalCopyright" "MIT licence"

Page license
Page directory
Page instfiles
UninstPage uninstConfirm
UninstPage instfiles
LicenseData "${STAGE}\LICENSE.txt"

Section "Install"
  SetOutPath "$INSTDIR"
  File "${STAGE}\m3ret.exe"
  File "${STAGE}\onnxruntime.dll"
  File "${STAGE}\DirectML.dll"
  File "${STAGE}\dxcompiler.dll"
  File "${STAGE}\dxil.dll"
  File "${STAGE}\m3ret.ico"
  File "${STAGE}\LICENSE.txt"
  File "${STAGE}\THIRD_PARTY_NOTICES.md"
  File "${STAGE}\onnxruntime-node.package.json"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateDirectory "$SMPROGRAMS"
  CreateShortCut "$SMPROGRAMS\${APPNAME}.lnk" "$INSTDIR\m3ret.exe" "" "$INSTDIR\m3ret.ico"
  WriteRegStr HKCU "Software\${APPNAME}" "InstallDir" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayName" "${APPNAME}"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTKEY}" "Publisher" "M3Ret Viewer developers"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayIcon" "$INSTDIR\m3ret.ico"
  WriteRegStr HKCU "${UNINSTKEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTKEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoRepair" 1
SectionEnd

Section "Uninstall"
  Delete "$SMPROGRAMS\${APPNAME}.lnk"
  Delete "$INSTDIR\m3ret.exe"
  Delete "$INSTDIR\onnxruntime.dll"
  Delete "$INSTDIR\DirectML.dll"
  Delete "$INSTDIR\dxcompiler.dll"
  Delete "$INSTDIR\dxil.dll"
  Delete "$INSTDIR\m3ret.ico"
  Delete "$INSTDIR\LICENSE.txt"
  Delete "$INSTDIR\THIRD_PARTY_NOTICES.md"
  Delete "$INSTDIR\onnxruntime-node.package.json"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKCU "${UNINSTKEY}"
  DeleteRegKey HKCU "Software\${APPNAME}"
SectionEnd
