//! Replays every input kept for the fuzz targets under `cargo test`: the minimised corpus of each
//! target (fuzz/corpus/<target>/, kept by `cargo fuzz cmin` after the runs scripts/fuzz.sh makes)
//! and every crash reproducer (fuzz/regressions/<target>/), through the same code the targets run
//! (fuzz/targets.rs). A panic on any of them fails, naming the file.

#[path = "../fuzz/targets.rs"]
mod targets;

use std::path::{Path, PathBuf};
use std::time::Instant;

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

#[test]
fn every_kept_fuzz_input_runs_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut failures = Vec::new();
    for (name, run) in targets::TARGETS {
        let corpus = inputs(&root.join("corpus").join(name));
        let regressions = inputs(&root.join("regressions").join(name));
        assert!(!corpus.is_empty(), "fuzz/corpus/{name} is empty: run FUZZ_SECONDS=600 ./scripts/fuzz.sh {name}");
        let started = Instant::now();
        for file in corpus.iter().chain(&regressions) {
            let data = std::fs::read(file).unwrap();
            if std::panic::catch_unwind(|| run(&data)).is_err() {
                failures.push(file.display().to_string());
            }
        }
        println!(
            "{name}: {} corpus inputs, {} regressions, {:.1} s",
            corpus.len(),
            regressions.len(),
            started.elapsed().as_secs_f64()
        );
    }
    assert!(failures.is_empty(), "fuzz inputs that panic: {failures:#?}");
}
