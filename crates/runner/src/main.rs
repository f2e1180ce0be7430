//! The `bakeoff` binary: parses the command line and hands over to the library.

// mimalloc reuses freed blocks instead of returning them to the OS, which keeps the
// training step's buffers from page-faulting on every allocation.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // candle's CPU backend runs its own element-wise operations on a pool of its own, whose
    // threads (one per core but one) spin while they wait, beside the rayon pool that runs the
    // engine, the autograd backend's custom operations and concurrent jobs. On two cores the
    // spinning took about a third of the autograd step's CPU samples (`perf record` of
    // `bakeoff bench --backend autograd`). With one thread candle runs those small operations
    // on the calling thread; they compute each element alone, so the results are the same.
    // Set before any thread starts; a user's own CANDLE_NUM_THREADS is kept.
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
    ae_runner::cli::main()
}
