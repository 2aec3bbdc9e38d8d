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

/// Position of `name` in [`NAMES`].
pub fn paper_rank(name: &str) -> Option<usize> {
    NAMES.iter().position(|n| *n == name)
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

/// Sort key putting names in the paper's order, unknown names last (then alphabetically).
pub fn order_key(name: &str) -> (usize, String) {
    (paper_rank(name).unwrap_or(usize::MAX), name.to_string())
}
