/* Test-only shim for running Windows builds under Debian's wine 8.0.
 *
 * Rust's standard library (since 1.78) takes its random bytes from
 * ProcessPrng in bcryptprimitives.dll, which wine ships only from 9.0, so
 * under wine 8.0 every Rust .exe fails to load (status c0000135).  This DLL
 * provides ProcessPrng on top of SystemFunction036 (RtlGenRandom, in
 * advapi32), which wine 8.0 has.  scripts/wine-smoke.sh builds it with
 * mingw-w64 and puts it beside the .exe under test; it is never shipped.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
