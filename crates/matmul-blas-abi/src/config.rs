//! Which backend answers the calls, and with how many threads: chosen once per process
//! from the environment.
//!
//! * `MATMUL_BACKEND=NAME`: a backend compiled into this library (`naive-ikj`, …). Default:
//!   the best one compiled in ([`matmul::best`]).
//! * `MATMUL_THREADS=N`: its thread count (N ≥ 1). Default: the backend's own.
//!
//! A bad value prints one line to stderr and the default is used: a host program is never
//! aborted for a misspelt variable.

use std::sync::OnceLock;

use matmul::Backend;

/// The environment variable naming the backend.
pub const BACKEND_VAR: &str = "MATMUL_BACKEND";
/// The environment variable setting the thread count.
pub const THREADS_VAR: &str = "MATMUL_THREADS";

/// The backend chosen for this process, or `None` if no compiled backend can run (then
/// every call prints why and leaves C unchanged).
pub fn backend() -> Option<&'static dyn Backend> {
    static CHOSEN: OnceLock<Option<&'static dyn Backend>> = OnceLock::new();
    *CHOSEN.get_or_init(|| {
        let requested = std::env::var(BACKEND_VAR).ok();
        let threads = std::env::var(THREADS_VAR).ok();
        choose(requested.as_deref(), threads.as_deref(), &mut |line| eprintln!("matmul-blas: {line}"))
    })
}

/// The backend for these settings; every problem with them goes to `warn` as one line.
pub fn choose(
    requested: Option<&str>,
    threads: Option<&str>,
    warn: &mut dyn FnMut(String),
) -> Option<&'static dyn Backend> {
    let named = match requested.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(name) => match matmul::backend(name) {
            Ok(b) => match b.availability() {
                matmul::Availability::Available => Some(b),
                matmul::Availability::Unavailable(why) => {
                    warn(format!("{BACKEND_VAR}={name} cannot run here ({why}); using the default"));
                    None
                }
            },
            Err(e) => {
                warn(format!("{BACKEND_VAR}: {e}; using the default"));
                None
            }
        },
    };
    let chosen = match named.map_or_else(matmul::best, Ok) {
        Ok(b) => b,
        Err(e) => {
            warn(format!("no backend can run: {e}"));
            return None;
        }
    };
    match threads.map(str::trim).filter(|s| !s.is_empty()).map(str::parse::<usize>) {
        None => {}
        Some(Ok(n)) if n >= 1 => chosen.set_threads(n),
        Some(_) => warn(format!(
            "{THREADS_VAR}={:?} is not a thread count (a whole number ≥ 1); using the backend's default",
            threads.unwrap_or_default()
        )),
    }
    Some(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(requested: Option<&str>, threads: Option<&str>) -> (Option<&'static str>, Vec<String>) {
        let mut warnings = Vec::new();
        let b = choose(requested, threads, &mut |w| warnings.push(w));
        (b.map(|b| b.name()), warnings)
    }

    #[test]
    fn default_is_the_best_compiled_backend() {
        assert_eq!(pick(None, None), (Some(matmul::best().unwrap().name()), vec![]));
        assert_eq!(pick(Some("  "), None).1, Vec::<String>::new());
    }

    #[test]
    fn a_named_backend_is_used() {
        assert_eq!(pick(Some("naive-ijk"), None), (Some("naive-ijk"), vec![]));
    }

    #[test]
    fn a_bad_name_warns_once_and_falls_back() {
        let (b, w) = pick(Some("fortran77"), None);
        assert_eq!(b, Some(matmul::best().unwrap().name()));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("fortran77") && w[0].contains("naive-ikj"), "{}", w[0]);
    }

    #[test]
    fn a_bad_thread_count_warns_and_is_ignored() {
        for bad in ["0", "-2", "many", "1.5"] {
            let (b, w) = pick(Some("naive-ikj"), Some(bad));
            assert_eq!(b, Some("naive-ikj"));
            assert_eq!(w.len(), 1, "{bad}: {w:?}");
            assert!(w[0].contains(THREADS_VAR), "{}", w[0]);
        }
        assert_eq!(pick(Some("naive-ikj"), Some("2")).1, Vec::<String>::new());
    }
}
