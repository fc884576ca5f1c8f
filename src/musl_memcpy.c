/*
 * memcpy for the static x86_64 musl build (scripts/package.sh).
 *
 * musl's x86_64 memcpy is `rep movsq` for every size. The string
 * instruction's start-up cost dominates the short copies that a consumer
 * makes for every record (keys, values, headers and JSON output, tens to
 * hundreds of bytes each): profiled on `consume --format jsonl`, musl's
 * memcpy took 38 % of the static binary's CPU against 3 % for glibc's in the
 * glibc build, and the static binary needed 1.6-1.8x the glibc build's CPU.
 *
 * This one copies short ranges with overlapping unaligned 8- and 16-byte
 * moves, middle ones in 32-byte blocks, and long ones with `rep movsb`
 * (fast on CPUs with ERMS/FSRM, and correct everywhere). build.rs links it
 * as `memcpy` into the static musl binary only (whole archive, so libc.a's
 * memcpy is never pulled in); every build also gets it as
 * `kafkaterm_memcpy`, which the unit tests in src/musl_memcpy.rs check
 * against a byte loop for every length up to 600 at every alignment.
 *
 * musl's memmove jumps into its memcpy's object for a forward copy, which
 * would pull musl's memcpy into the link beside this one, so memmove is
 * replaced too: a forward copy (destination below the source, overlapping
 * or not) goes to kafkaterm_memcpy, whose every path reads a block before it
 * writes the block's destination and reads the tail before anything is
 * written; a backward overlapping copy goes block by block from the end.
 *
 * Built with -fno-builtin -fno-tree-loop-distribute-patterns so that the
 * compiler does not turn a loop here back into a call to memcpy.
 */
#include <emmintrin.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t __attribute__((may_alias, aligned(1))) u64_unaligned;
typedef uint32_t __attribute__((may_alias, aligned(1))) u32_unaligned;
typedef uint16_t __attribute__((may_alias, aligned(1))) u16_unaligned;

/* From this length on, `rep movsb`. */
#define REP_MOVSB_FROM 1024

/* No `restrict`: memmove below relies on the order of reads and writes. */
void *kafkaterm_memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    if (n < 16) {
        if (n >= 8) {
            uint64_t head = *(const u64_unaligned *)s;
            uint64_t tail = *(const u64_unaligned *)(s + n - 8);
            *(u64_unaligned *)d = head;
            *(u64_unaligned *)(d + n - 8) = tail;
        } else if (n >= 4) {
            uint32_t head = *(const u32_unaligned *)s;
            uint32_t tail = *(const u32_unaligned *)(s + n - 4);
            *(u32_unaligned *)d = head;
            *(u32_unaligned *)(d + n - 4) = tail;
        } else if (n >= 2) {
            uint16_t head = *(const u16_unaligned *)s;
            uint16_t tail = *(const u16_unaligned *)(s + n - 2);
            *(u16_unaligned *)d = head;
            *(u16_unaligned *)(d + n - 2) = tail;
        } else if (n == 1) {
            *d = *s;
        }
        return dst;
    }
    if (n <= 32) {
        __m128i head = _mm_loadu_si128((const __m128i *)s);
        __m128i tail = _mm_loadu_si128((const __m128i *)(s + n - 16));
        _mm_storeu_si128((__m128i *)d, head);
        _mm_storeu_si128((__m128i *)(d + n - 16), tail);
        return dst;
    }
    if (n >= REP_MOVSB_FROM) {
        __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
        return dst;
    }
    /* 33 to REP_MOVSB_FROM - 1 bytes: the last 32 read first, then 32-byte
     * blocks from the start while more than 32 bytes are left, then the last
     * 32 written (overlapping the final block). */
    __m128i tail0 = _mm_loadu_si128((const __m128i *)(s + n - 32));
    __m128i tail1 = _mm_loadu_si128((const __m128i *)(s + n - 16));
    size_t i = 0;
    while (n - i > 32) {
        __m128i a = _mm_loadu_si128((const __m128i *)(s + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(s + i + 16));
        _mm_storeu_si128((__m128i *)(d + i), a);
        _mm_storeu_si128((__m128i *)(d + i + 16), b);
        i += 32;
    }
    _mm_storeu_si128((__m128i *)(d + n - 32), tail0);
    _mm_storeu_si128((__m128i *)(d + n - 16), tail1);
    return dst;
}

void *kafkaterm_memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    /* Up to 32 bytes every load comes before every store; a destination
     * below the source (or apart from it) is safe for a forward copy. */
    if (n <= 32 || (uintptr_t)d - (uintptr_t)s >= n)
        return kafkaterm_memcpy(dst, src, n);
    /* The destination starts inside the source: the first 32 bytes read
     * first, then 32-byte blocks from the end down, then the first 32. */
    __m128i head0 = _mm_loadu_si128((const __m128i *)s);
    __m128i head1 = _mm_loadu_si128((const __m128i *)(s + 16));
    size_t i = n;
    while (i > 32) {
        __m128i a = _mm_loadu_si128((const __m128i *)(s + i - 32));
        __m128i b = _mm_loadu_si128((const __m128i *)(s + i - 16));
        _mm_storeu_si128((__m128i *)(d + i - 32), a);
        _mm_storeu_si128((__m128i *)(d + i - 16), b);
        i -= 32;
    }
    _mm_storeu_si128((__m128i *)d, head0);
    _mm_storeu_si128((__m128i *)(d + 16), head1);
    return dst;
}

#ifdef KAFKATERM_REPLACE_MEMCPY
void *memcpy(void *restrict dst, const void *restrict src, size_t n)
    __attribute__((alias("kafkaterm_memcpy")));
void *memmove(void *dst, const void *src, size_t n)
    __attribute__((alias("kafkaterm_memmove")));
#endif
