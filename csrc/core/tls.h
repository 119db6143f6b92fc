// Note [Per-thread caches]
// ~~~~~~~~~~~~~~~~~~~~~~~~~
// The per-op path reaches per-thread state several times an op: the TensorImpl and Storage free
// lists, the allocator's small-block cache, the transform level stack. In a shared library a
// thread_local is found through a call to __tls_get_addr (the general-dynamic model, about 11
// instructions, more for a function-local object with a destructor, whose guard is one more
// lookup), which came to ~2.3k instructions of a 37k-instruction tiny gradient call. Each of them
// is therefore reached through one pointer in the initial-exec model (a single load off the thread
// register): TG_TLS_FAST pointers, 8 bytes each, set when the thread's object is made and cleared
// when it is destroyed at thread exit (after which the callers fall back to plain new/delete, as
// before). The objects themselves stay ordinary thread_locals, so the static TLS block a dlopen'ed
// module may use holds only those few pointers.
#pragma once

#if defined(__ELF__) && (defined(__GNUC__) || defined(__clang__))
#define TG_TLS_FAST __attribute__((tls_model("initial-exec")))
#else
#define TG_TLS_FAST
#endif
