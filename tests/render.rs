//! Renders a short CartPole episode to SVG and checks the structure of the document.

use synaptogen::rng::{Purpose, stream};
use synaptogen::task::{by_name, render};

/// Checks that every tag is closed in order and returns the names of the opened elements.
fn balanced_elements(svg: &str) -> Vec<String> {
    let mut open: Vec<String> = Vec::new();
    let mut elements = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').expect("unterminated tag") + start;
        let tag = &rest[start + 1..end];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop().as_deref(), Some(name), "misnested </{name}>");
        } else {
            let name = tag.split_whitespace().next().expect("empty tag").trim_end_matches('/');
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric()), "bad element `{name}`");
            elements.push(name.to_owned());
            if !tag.ends_with('/') {
                open.push(name.to_owned());
            }
        }
        assert_eq!(tag.matches('"').count() % 2, 0, "unbalanced quotes in <{tag}>");
        rest = &rest[end + 1..];
    }
    assert!(open.is_empty(), "unclosed elements {open:?}");
    elements
}

#[test]
fn cartpole_episode_renders_to_a_well_formed_strip() {
    // A short episode: push right until the pole falls over.
    let mut task = by_name("CartPole-v1").unwrap();
    let mut observation = [0.0; 4];
    task.reset(&mut stream(5, Purpose::Evaluation, 0), &mut observation);
    let mut states = vec![task.state()];
    while !task.step(1, &mut observation).done() {
        states.push(task.state());
    }
    states.push(task.state());

    let steps = render::evenly_spaced(states.len(), 4);
    assert_eq!(steps.len(), 4);
    let svg = render::cartpole_strip(&states, &steps).unwrap();

    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{svg}");
    assert!(svg.trim_end().ends_with("</svg>"));
    let elements = balanced_elements(&svg);
    assert_eq!(elements.iter().filter(|name| *name == "svg").count(), 1);
    assert_eq!(svg.matches("<g class=\"frame\"").count(), steps.len());
    for name in ["cart", "pole", "limit", "track"] {
        let count = svg.matches(&format!("class=\"{name}\"")).count();
        let expected = if name == "limit" { 2 } else { 1 } * steps.len();
        assert_eq!(count, expected, "{name}");
    }
    for step in &steps {
        assert!(svg.contains(&format!(">step {step}</text>")), "no label for step {step}");
    }
}
