/* The block header that precedes every block osmem hands out (SPEC rule 1).
 * The layout is a contract: code outside the library may read size and status
 * at ptr - 32. */
#ifndef OSMEM_BLOCK_META_H
#define OSMEM_BLOCK_META_H

#include <stddef.h>

struct block_meta {
	size_t size;             /* payload bytes, header excluded; a multiple of 8 */
	int status;              /* STATUS_* below */
	struct block_meta *prev; /* the library's own links: physical predecessor (heap,
				  * allocated) or list neighbour (mapped); a FREE heap
				  * block lends both to the free index */
	struct block_meta *next;
};

#define STATUS_FREE   0
#define STATUS_ALLOC  1
#define STATUS_MAPPED 2

#endif
