/* osmem: the core allocator API. Behaviour, down to each brk/mmap/munmap call
 * and every returned address, is fixed by SPEC.md part 1. */
#ifndef OSMEM_H
#define OSMEM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

void *os_malloc(size_t size);
void *os_calloc(size_t nmemb, size_t size);
void *os_realloc(void *ptr, size_t size);
void os_free(void *ptr);

#ifdef __cplusplus
}
#endif

#endif
