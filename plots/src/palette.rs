//! The optimizers in the paper's order, their groups, and one fixed colour each, so an
//! optimizer looks the same in every figure (and across runs).

use plotters::style::RGBColor;

/// The paper's eleven methods (their registry names) in the order of its Table 3: steepest
/// descent, adaptive, proposed. Kept here so this crate does not depend on Burn; the root
/// crate's tests check they are the registry's first eleven (`src/config.rs`). An optimizer
/// added to the registry later needs no line here: it is drawn and reported in the group
/// `other` with a colour picked from its name ([`colour`]).
pub const NAMES: [&str; 11] = [
    "sgd",
    "sps",
    "dog",
    "dadapt-sgd",
    "adam",
    "cocob",
    "ldog",
    "dadapt-adam",
    "prodigy",
    "ps-sps",
    "ps-da-sgd",
];

/// The paper's three groups, by the number of [`NAMES`] each takes.
const GROUPS: [(&str, usize); 3] = [("steepest descent", 4), ("adaptive", 5), ("proposed", 2)];

/// One colour per entry of [`NAMES`] (the same colour for each method as before the groups
/// followed Table 3), the proposed ones in red and black so they stand out.
const COLOURS: [RGBColor; 11] = [
    RGBColor(31, 119, 180),  // sgd: blue
    RGBColor(23, 190, 207),  // sps: cyan
    RGBColor(44, 160, 44),   // dog: green
    RGBColor(148, 103, 189), // dadapt-sgd: purple
    RGBColor(255, 127, 14),  // adam: orange
    RGBColor(127, 127, 127), // cocob: grey
    RGBColor(140, 86, 75),   // ldog: brown
    RGBColor(188, 189, 34),  // dadapt-adam: olive
    RGBColor(227, 119, 194), // prodigy: pink
    RGBColor(214, 39, 40),   // ps-sps: red
    RGBColor(20, 20, 20),    // ps-da-sgd: black
];

/// Colours for names outside the registry (a future optimizer), picked by a hash of the name
/// so they too stay the same from figure to figure.
const EXTRA: [RGBColor; 4] = [
    RGBColor(0, 90, 90),
    RGBColor(120, 0, 90),
    RGBColor(90, 90, 0),
    RGBColor(0, 0, 140),
];

/// Colours a curve takes when its own is already in the figure ([`distinct_colours`]): the
/// same method from several runs (`rl-plot --together`), or two unknown names hashing alike.
const SPARE: [RGBColor; 6] = [
    RGBColor(0, 150, 130),
    RGBColor(200, 80, 0),
    RGBColor(100, 60, 160),
    RGBColor(170, 0, 0),
    RGBColor(0, 110, 220),
    RGBColor(110, 140, 0),
];

/// The method of a curve's name: `ps-da-sgd [capped]` is `ps-da-sgd`. `rl-plot --together`
/// names an optimizer found in several runs `optimizer [run label]`; it keeps its method's
/// place, group and colour.
pub fn method(name: &str) -> &str {
    name.split_once(" [").map_or(name, |(m, _)| m)
}

/// Position of `name`'s [`method`] in [`NAMES`].
pub fn paper_rank(name: &str) -> Option<usize> {
    let method = method(name);
    NAMES.iter().position(|n| *n == method)
}

/// The paper's group of `name` (`steepest descent`, `adaptive`, `proposed`), `other` if unknown.
pub fn group(name: &str) -> &'static str {
    let Some(mut rank) = paper_rank(name) else {
        return "other";
    };
    for (group, size) in GROUPS {
        if rank < size {
            return group;
        }
        rank -= size;
    }
    "other"
}

/// The colour of `name` in every figure.
pub fn colour(name: &str) -> RGBColor {
    match paper_rank(name) {
        Some(i) => COLOURS[i],
        None => {
            EXTRA[name
                .bytes()
                .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize))
                % EXTRA.len()]
        }
    }
}

/// Sort key putting names in the paper's order, unknown names last (then alphabetically). The
/// labelled names of one method (`--together`) compare equal, so a stable sort keeps them in
/// the order of their runs.
pub fn order_key(name: &str) -> (usize, String) {
    (
        paper_rank(name).unwrap_or(usize::MAX),
        method(name).to_string(),
    )
}

/// One colour per curve of a figure, `names` in drawing order: each its [`colour`], unless an
/// earlier curve took it; then the first colour of [`EXTRA`] and [`SPARE`] still free (the
/// first curve of a method keeps the method's colour). Only past that many curves do two
/// share a colour.
pub fn distinct_colours<S: AsRef<str>>(names: &[S]) -> Vec<RGBColor> {
    let mut used: Vec<RGBColor> = Vec::with_capacity(names.len());
    for name in names {
        let own = colour(name.as_ref());
        let pick = if used.contains(&own) {
            EXTRA
                .iter()
                .chain(&SPARE)
                .copied()
                .find(|c| !used.contains(c))
                .unwrap_or(own)
        } else {
            own
        };
        used.push(pick);
    }
    used
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labelled_names_keep_their_method() {
        assert_eq!(method("ps-da-sgd [growth-capped]"), "ps-da-sgd");
        assert_eq!(method("adam"), "adam");
        assert_eq!(group("ps-da-sgd [capped]"), "proposed");
        assert_eq!(paper_rank("adam [sbx]"), paper_rank("adam"));
        assert_eq!(order_key("ps-da-sgd [a]"), order_key("ps-da-sgd [b]"));
        assert!(order_key("adam [z]") < order_key("ps-da-sgd [a]"));
    }

    #[test]
    fn curves_of_one_figure_get_distinct_colours() {
        let names = [
            "adam",
            "ps-da-sgd [as defined]",
            "ps-da-sgd [capped]",
            "ps-da-sgd [cocob]",
            "sbx-adam",
            "sbx-other",
            "unknown-1",
            "unknown-2",
        ];
        let colours = distinct_colours(&names);
        for (i, a) in colours.iter().enumerate() {
            for (j, b) in colours.iter().enumerate().skip(i + 1) {
                assert_ne!(a, b, "{} and {} share a colour", names[i], names[j]);
            }
        }
        assert_eq!(colours[0], colour("adam"));
        assert_eq!(
            colours[1],
            colour("ps-da-sgd"),
            "the first keeps its method's"
        );
        // Alone in a figure every name keeps its own colour.
        for name in names {
            assert_eq!(distinct_colours(&[name]), [colour(name)]);
        }
    }
}
