//! `faultline compare` over a bank scenario through the real binary: the table, the
//! pages, the charts and the glossary are the bank's own, built from the variants'
//! declared figures, and every value shown is the variant's own `summary.json` figure.

mod common;

use std::path::Path;
use std::process::Command;

use common::{bundled, expect_exit, temp_dir};
use faultline_reports::figures::FigureInfo;
use faultline_reports::record::RunRecord;

/// The figures the issue asks a bank comparison to show, by name.
const BANK_FIGURES: [&str; 12] = [
    "money_start_units",
    "money_end_units",
    "acked_transfers_lost",
    "durability_violations",
    "causality_violations",
    "snapshot_conservation_violations",
    "snapshots_completed",
    "snapshots_abandoned",
    "max_hlc_offset_ms",
    "recoveries",
    "records_replayed",
    "messages_delivered",
];

/// Of those, the headline ones, which the side-by-side table always shows.
const HEADLINE: [&str; 5] = [
    "acked_transfers_lost",
    "durability_violations",
    "causality_violations",
    "snapshot_conservation_violations",
    "max_hlc_offset_ms",
];

/// The cells of a line of the terminal table (columns are two or more spaces apart).
fn cells(line: &str) -> Vec<String> {
    line.split("  ")
        .map(str::trim)
        .filter(|cell| !cell.is_empty())
        .map(str::to_owned)
        .collect()
}

fn info<'a>(rec: &'a RunRecord, name: &str) -> &'a FigureInfo {
    &faultline_reports::figures::find(&rec.summary.figures, name)
        .unwrap_or_else(|| panic!("the bank declares no {name}"))
        .info
}

fn shown(rec: &RunRecord, name: &str) -> String {
    info(rec, name).format(faultline_reports::figures::value(
        &rec.summary.figures,
        name,
    ))
}

#[test]
fn a_bank_comparison_shows_the_banks_figures_as_each_variant_measured_them() {
    let out = temp_dir("compare-bank-fsync");
    // The bundled scenario, cut to 8 s with its crash of acct-3 and one clock skew.
    let result = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args([
            "compare",
            bundled("bank-no-fsync.json").to_str().unwrap(),
            "--vary",
            r#"workload.durability.fsync=every_record,{"interval":"20ms"},never"#,
            "--set",
            "duration=8s",
            "--set",
            r#"faults=[{"at":"4005ms","crash":"acct-3","restart_after":"2s"},{"at":"0s","clock":{"node":"acct-2","skew":"40ms","drift_ppm":150}}]"#,
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("faultline runs");
    // Never syncing loses acknowledged transfers: its durability check fails.
    let stdout = expect_exit(&result, 1);
    assert!(
        stdout.contains("checks failed in 1 of 3 variants: never"),
        "{stdout}"
    );
    assert!(!stdout.contains("n/a"), "{stdout}");

    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("compare.json")).unwrap()).unwrap();
    let variants: Vec<(String, RunRecord)> = manifest["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let dir = out.join(v["dir"].as_str().unwrap());
            let rec = faultline_reports::load_run(Path::new(&dir)).unwrap();
            (v["label"].as_str().unwrap().to_owned(), rec)
        })
        .collect();
    let labels: Vec<&str> = variants.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels, ["every_record", r#"{"interval":"20ms"}"#, "never"]);
    let never = &variants[2].1;
    let lost = |rec: &RunRecord| {
        faultline_reports::figures::value(&rec.summary.figures, "acked_transfers_lost").unwrap()
    };
    // The comparison is of runs that differ: the test would not see a column of the
    // wrong variant otherwise.
    assert!(lost(never) > 0.0 && lost(&variants[0].1) == 0.0);

    // The terminal table: the checks and the headline figures, each cell the variant's
    // own figure as its declaration formats it.
    let lines: Vec<&str> = stdout.lines().collect();
    let header_at = lines
        .iter()
        .position(|line| line.starts_with("variant"))
        .expect("a table");
    let header = cells(lines[header_at]);
    assert_eq!(header[..2], ["variant", "checks"]);
    for (row, (label, rec)) in variants.iter().enumerate() {
        let line = cells(lines[header_at + 1 + row]);
        assert_eq!(line.len(), header.len(), "{stdout}");
        assert_eq!(&line[0], label);
        let checks = &rec.summary.checks;
        let want = if checks.iter().all(|c| c.passed) {
            format!("all {} passed", checks.len())
        } else {
            let failed = checks.iter().filter(|c| !c.passed).count();
            format!("{failed} of {} FAILED", checks.len())
        };
        assert_eq!(line[1], want);
        for name in HEADLINE {
            let figure = info(rec, name);
            let column = header
                .iter()
                .position(|h| *h == figure.label || *h == figure.head())
                .unwrap_or_else(|| panic!("no column for {name}: {stdout}"));
            assert_eq!(line[column], shown(rec, name), "{label}: {name}");
        }
    }

    // The pages list every figure, one row each with its unit, a column per variant.
    let md = std::fs::read_to_string(out.join("compare.md")).unwrap();
    let html = std::fs::read_to_string(out.join("compare.html")).unwrap();
    for name in BANK_FIGURES {
        let figure = info(never, name);
        let want: Vec<String> = variants.iter().map(|(_, rec)| shown(rec, name)).collect();
        let row = md
            .lines()
            .find(|line| line.starts_with(&format!("| {} ", figure.head())))
            .unwrap_or_else(|| panic!("compare.md has no row for {name}: {md}"));
        assert_eq!(cells(&row.replace('|', "  "))[1..], want[..], "{row}");
        let html_row: String = std::iter::once(format!("<tr><td>{}</td>", figure.head()))
            .chain(want.iter().map(|v| format!("<td class=\"num\">{v}</td>")))
            .collect();
        assert!(html.contains(&html_row), "compare.html lacks {html_row}");
    }
    // Never syncing ends with less money than the bank started with; every record does not.
    let money = |rec: &RunRecord, name: &str| {
        faultline_reports::figures::value(&rec.summary.figures, name).unwrap()
    };
    assert!(money(never, "money_end_units") < money(never, "money_start_units"));
    assert_eq!(
        money(&variants[0].1, "money_end_units"),
        money(&variants[0].1, "money_start_units")
    );
    for page in [&md, &html] {
        assert!(!page.contains("n/a"), "a cell the table does not know");
        // The bank's glossary, not the rpc one.
        assert!(page.contains("snapshot_conservation"));
        assert!(page.contains("money in flight"));
        assert!(!page.contains("availability by offered time"));
    }
    // A chart per declared series, a line per variant; no rpc overlays.
    for series in &never.summary.series {
        let svg = std::fs::read_to_string(out.join(format!("series-{}.svg", series.name)))
            .unwrap_or_else(|err| panic!("series {}: {err}", series.name));
        assert!(svg.contains("every_record") && svg.contains("never"));
        assert!(out.join(format!("series-{}.png", series.name)).is_file());
    }
    assert!(!out.join("herd.svg").exists());
    let _ = std::fs::remove_dir_all(&out);
}
