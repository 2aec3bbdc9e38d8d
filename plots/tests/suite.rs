//! The reproduction suite files (configs/suite-*.toml) stay in step with the optimizer list:
//! every optimizer in Table 3's order except SPS and PS-SPS, which the paper leaves out of RL.

use lrfree_plots::palette::NAMES;

#[test]
fn suite_configs_list_the_nine_rl_optimizers_in_paper_order() {
    let rl: Vec<&str> = NAMES
        .iter()
        .copied()
        .filter(|n| !["sps", "ps-sps"].contains(n))
        .collect();
    assert_eq!(rl.len(), 9);
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    for (name, env, seeds) in [
        ("pendulum", "Pendulum", 5),
        ("hopper", "Hopper", 5),
        ("humanoid", "Humanoid", 5),
        ("hopper-50k", "Hopper", 3),
    ] {
        let path = format!("{root}/configs/suite-{name}.toml");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let value: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        let suite = value["suite"].as_table().unwrap();
        assert_eq!(suite["env"].as_str(), Some(env), "{path}");
        assert_eq!(suite["seeds"].as_integer(), Some(seeds), "{path}");
        let opts: Vec<&str> = suite["optimizers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(opts, rl, "{path}");
        let base = suite["base"].as_str().unwrap();
        assert!(
            std::path::Path::new(&format!("{root}/configs/{base}")).is_file(),
            "{path}: base {base} (relative to the suite file) missing"
        );
        let steps = suite["steps"].as_integer().unwrap();
        if name == "pendulum" {
            assert!((10_000..=20_000).contains(&steps), "{path}: {steps} steps");
        }
    }
}
