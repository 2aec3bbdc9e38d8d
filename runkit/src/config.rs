//! Reading a runner's TOML config: bad input is one line that names the file.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::RunError;

/// Parse a TOML config's text (`origin` names it in errors).
pub fn parse_toml<T: DeserializeOwned>(text: &str, origin: &str) -> Result<T, RunError> {
    toml::from_str(text)
        .map_err(|e| RunError::Usage(format!("{origin}: {}", one_line(&e.to_string()))))
}

/// Read a TOML config file's text.
pub fn read_config(path: &Path) -> Result<String, RunError> {
    std::fs::read_to_string(path)
        .map_err(|e| RunError::Usage(format!("cannot read config {}: {e}", path.display())))
}

/// TOML errors span several lines (the source line and a caret); runs report one.
pub fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Config {
        steps: u64,
    }

    #[test]
    fn errors_are_one_line_naming_the_file() {
        let e = parse_toml::<Config>("steps = \"many\"\n", "my.toml").unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("my.toml: ") && !text.contains('\n'),
            "{text}"
        );
        assert_eq!(e.exit_code(), 2);
        assert_eq!(parse_toml::<Config>("steps = 3", "x").unwrap().steps, 3);
        let e = read_config(Path::new("/nonexistent/c.toml")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("cannot read config /nonexistent/c.toml"),
            "{e}"
        );
    }
}
