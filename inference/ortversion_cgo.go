//go:build !windows

package inference

/*
#cgo linux LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

// The first two members of ORT's OrtApiBase, stable across versions.
typedef struct {
	const void* (*GetApi)(unsigned version);
	const char* (*GetVersionString)(void);
} m3retApiBase;

static const char* m3ret_ort_version(const char* path) {
	void* h = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
	if (!h) return NULL;
	const m3retApiBase* (*base)(void) = (const m3retApiBase* (*)(void))dlsym(h, "OrtGetApiBase");
	if (!base) return NULL;
	const m3retApiBase* b = base();
	return b ? b->GetVersionString() : NULL;
}
*/
import "C"

import "unsafe"

// libraryVersion asks an ORT shared library for its version without
// starting it ("" if it cannot tell).
func libraryVersion(path string) string {
	p := C.CString(path)
	defer C.free(unsafe.Pointer(p))
	v := C.m3ret_ort_version(p)
	if v == nil {
		return ""
	}
	return C.GoString(v)
}
