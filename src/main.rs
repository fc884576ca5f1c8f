use std::process::ExitCode;

use kafkaterm::cli::Cmd;

/// mimalloc for Rust's allocations; its `override` feature also replaces
/// malloc/free for the C code linked in. librdkafka allocates an op per
/// message on its broker thread and the reader frees it on another, where
/// glibc's arena locks contend (a quarter of a headless consume's CPU in a
/// profile before this).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_e` (mimalloc.h).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    let cli = kafkaterm::cli::Cli::parse_args();
    if matches!(
        cli.command,
        Some(Cmd::Consume(_) | Cmd::Produce(_) | Cmd::Copy(_))
    ) {
        // A stream frees and reallocates fetch and produce buffers all the
        // time; giving freed pages back to the OS made it fault them in
        // again (zeroing transparent huge pages: a third of the CPU time in
        // the kernel). These commands end when the stream does: keep them.
        // SAFETY: called before any other thread exists.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
    match kafkaterm::run(cli) {
        Ok(code) => code,
        Err(e) => {
            kafkaterm::term::restore();
            kafkaterm::eline!("kafkaterm: {}", kafkaterm::error_line(&e));
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_index_names_mimallocs_purge_delay() {
        // mimalloc 3 documents purge_delay's default as 1000 ms; a wrong
        // index would read another option's value.
        let v = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(v, 1000);
    }
}
