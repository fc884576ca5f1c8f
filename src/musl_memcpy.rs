//! The checks of src/musl_memcpy.c, the `memcpy` and `memmove` of the static
//! x86_64 musl build (build.rs links them there; everywhere else on x86_64
//! they exist only as `kafkaterm_memcpy` and `kafkaterm_memmove`, for these
//! tests). Nothing here is called by the program itself.

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use std::os::raw::c_void;

    unsafe extern "C" {
        fn kafkaterm_memcpy(dst: *mut c_void, src: *const c_void, n: usize) -> *mut c_void;
        fn kafkaterm_memmove(dst: *mut c_void, src: *const c_void, n: usize) -> *mut c_void;
    }

    /// Distinct, position-dependent bytes, so a misplaced byte shows.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| (i * 7 + i / 251 + 1).to_le_bytes()[0])
            .collect()
    }

    /// Lengths that cross each path's edges (8, 16, 32, the 32-byte blocks,
    /// the `rep movsb` threshold at 1024) and some in between.
    fn lengths() -> impl Iterator<Item = usize> {
        (0..=600).chain([1000, 1023, 1024, 1025, 2047, 4096, 65_537])
    }

    #[test]
    fn memcpy_copies_every_length_at_every_alignment_and_nothing_else() {
        for n in lengths() {
            for src_off in 0..8 {
                for dst_off in 0..8 {
                    let src = pattern(n + src_off);
                    let mut dst = vec![0xAA_u8; n + dst_off + 16];
                    let ret = unsafe {
                        kafkaterm_memcpy(
                            dst.as_mut_ptr().add(dst_off).cast(),
                            src.as_ptr().add(src_off).cast(),
                            n,
                        )
                    };
                    assert_eq!(ret, unsafe { dst.as_mut_ptr().add(dst_off).cast() });
                    assert_eq!(&dst[dst_off..dst_off + n], &src[src_off..], "n={n}");
                    assert!(
                        dst[..dst_off].iter().all(|&b| b == 0xAA),
                        "n={n}: wrote before"
                    );
                    assert!(
                        dst[dst_off + n..].iter().all(|&b| b == 0xAA),
                        "n={n}: wrote after"
                    );
                }
            }
        }
    }

    #[test]
    fn memmove_is_right_for_overlaps_in_both_directions() {
        for n in lengths().filter(|n| *n <= 4096) {
            for shift in [1usize, 3, 8, 15, 16, 17, 31, 32, 33, 100] {
                let original = pattern(n + shift);
                // Destination above the source (backward copy).
                let mut up = original.clone();
                unsafe {
                    kafkaterm_memmove(up.as_mut_ptr().add(shift).cast(), up.as_ptr().cast(), n)
                };
                assert_eq!(&up[shift..], &original[..n], "up n={n} shift={shift}");
                assert_eq!(&up[..shift], &original[..shift]);
                // Destination below the source (forward copy).
                let mut down = original.clone();
                unsafe {
                    kafkaterm_memmove(down.as_mut_ptr().cast(), down.as_ptr().add(shift).cast(), n)
                };
                assert_eq!(&down[..n], &original[shift..], "down n={n} shift={shift}");
                assert_eq!(&down[n..], &original[n..]);
            }
        }
    }
}
