/* Wine 8.0 lacks bcryptprimitives.dll, which the Go runtime loads for
   ProcessPrng on Windows 10+. This shim, used only in the wine smoke test,
   forwards to advapi32's RtlGenRandom (SystemFunction036). */
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID, ULONG);
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
    if (!SystemFunction036(data, chunk)) return FALSE;
    data += chunk; len -= chunk;
  }
  return TRUE;
}
