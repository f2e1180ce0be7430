//! The `bakeoff` binary: parses the command line and hands over to the library.

// mimalloc reuses freed blocks instead of returning them to the OS, which keeps the
// training step's buffers from page-faulting on every allocation.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    ae_runner::cli::main()
}
