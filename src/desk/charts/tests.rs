use super::*;

/// A small XML 1.0 well-formedness check: one root element, tags nest and match, attributes are
/// quoted and unique, `&` starts a known or numeric entity, no `<` or `>` loose in text or values,
/// only characters XML allows. Enough to catch what unescaped labels would break.
fn well_formed(xml: &str) -> Result<(), String> {
    let mut stack: Vec<&str> = Vec::new();
    let mut roots = 0;
    let mut rest = xml;
    while !rest.is_empty() {
        match rest.find('<') {
            Some(0) => {
                let end = rest.find('>').ok_or("unclosed tag")?;
                let tag = &rest[1..end];
                if let Some(name) = tag.strip_prefix('/') {
                    let open = stack.pop().ok_or(format!("stray </{name}>"))?;
                    if open != name {
                        return Err(format!("<{open}> closed by </{name}>"));
                    }
                } else {
                    let self_closing = tag.ends_with('/');
                    let tag = tag.trim_end_matches('/');
                    let name = check_start_tag(tag)?;
                    if stack.is_empty() {
                        roots += 1;
                    }
                    if !self_closing {
                        stack.push(name);
                    }
                }
                rest = &rest[end + 1..];
            }
            found => {
                let end = found.unwrap_or(rest.len());
                if stack.is_empty() && !rest[..end].trim().is_empty() {
                    return Err("text outside the root element".into());
                }
                check_text(&rest[..end])?;
                rest = &rest[end..];
            }
        }
    }
    match (stack.last(), roots) {
        (Some(open), _) => Err(format!("<{open}> never closed")),
        (None, 1) => Ok(()),
        (None, n) => Err(format!("{n} root elements")),
    }
}

fn check_start_tag(tag: &str) -> Result<&str, String> {
    let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
    let name = &tag[..name_end];
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(format!("bad tag name in <{tag}>"));
    }
    let mut attrs = tag[name_end..].trim();
    let mut seen = Vec::new();
    while !attrs.is_empty() {
        let eq = attrs
            .find("=\"")
            .ok_or(format!("unquoted attribute in <{tag}>"))?;
        let key = attrs[..eq].trim();
        if key.is_empty() || key.contains(char::is_whitespace) || seen.contains(&key) {
            return Err(format!("bad or repeated attribute `{key}` in <{name}>"));
        }
        seen.push(key);
        let value_and_rest = &attrs[eq + 2..];
        let close = value_and_rest.find('"').ok_or("unterminated attribute")?;
        check_text(&value_and_rest[..close])?;
        attrs = value_and_rest[close + 1..].trim_start();
    }
    Ok(name)
}

fn check_text(text: &str) -> Result<(), String> {
    if text.contains('<') || text.contains('>') {
        return Err(format!("markup character in text `{text}`"));
    }
    if let Some(c) = text
        .chars()
        .find(|&c| (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(format!("character U+{:04X} not allowed in XML", c as u32));
    }
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        let end = rest[at..].find(';').ok_or("& without ;")? + at;
        let entity = &rest[at + 1..end];
        let known = matches!(entity, "amp" | "lt" | "gt" | "quot" | "apos")
            || entity
                .strip_prefix('#')
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if !known {
            return Err(format!("unknown entity &{entity};"));
        }
        rest = &rest[end + 1..];
    }
    Ok(())
}

fn s(v: &str) -> String {
    v.to_string()
}

fn days() -> Vec<(String, Vec<(String, u64)>)> {
    (1..=14)
        .map(|d| {
            (
                format!("{d:02}-07"),
                vec![(s("email"), d * 3), (s("postal"), d % 4)],
            )
        })
        .collect()
}

#[test]
fn the_checker_rejects_what_it_should() {
    assert!(well_formed("<svg><text>a &amp; b</text></svg>").is_ok());
    for bad in [
        "<svg><text>a & b</text></svg>",
        "<svg><text>a <script> b</text></svg>",
        "<svg><text>x</svg>",
        "<svg a=\"1\" a=\"2\"></svg>",
        "<svg a=1></svg>",
        "<svg></svg><svg></svg>",
        "<svg><text>\u{1}</text></svg>",
        "<svg><title>x\"</title><rect x=\"a\"b\"/></svg>",
    ] {
        assert!(well_formed(bad).is_err(), "{bad}");
    }
}

#[test]
fn daily_intake_chart_is_well_formed_with_a_legend_and_exact_values() {
    let svg = bar_chart("Kasus masuk per hari", &days());
    well_formed(&svg).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 360 "));
    assert!(svg.contains("width=\"100%\""));
    assert!(!svg.contains("<script"));
    assert!(svg.contains("<title>14-07 · email: 42</title>"), "{svg}");
    // One swatch per series, in palette order.
    assert!(
        svg.contains("fill=\"#0072B2\"><title>email</title>"),
        "{svg}"
    );
    assert!(
        svg.contains("fill=\"#E69F00\"><title>postal</title>"),
        "{svg}"
    );
    // The axis goes to a round number above the highest day (42 + 2).
    assert!(svg.contains(">60</text>"), "{svg}");
}

#[test]
fn labels_from_mail_and_rules_are_escaped_everywhere() {
    let evil = s("<script>alert('x')</script> & \"Bidang\"\u{7}");
    let bars = vec![(evil.clone(), vec![(evil.clone(), 5)])];
    for svg in [bar_chart(&evil, &bars), horizontal_bars(&evil, &bars)] {
        well_formed(&svg).unwrap_or_else(|e| panic!("{e}: {svg}"));
        assert!(!svg.contains("<script"), "{svg}");
        assert!(
            svg.contains(
                "&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; &quot;Bidang&quot;"
            ),
            "{svg}"
        );
        assert!(!svg.contains('\u{7}'));
    }
}

#[test]
fn open_cases_per_department_by_age() {
    let rows = vec![
        (
            s("Bidang Pelayanan Perizinan Pekerjaan Umum dan Penataan Ruang Kota"),
            vec![
                (s("0-5 hari"), 12),
                (s("6-10 hari"), 4),
                (s("> 10 hari"), 1),
            ],
        ),
        (
            s("Bidang Kesehatan"),
            vec![(s("0-5 hari"), 3), (s("> 10 hari"), 2500)],
        ),
        (s("Bidang Usaha"), vec![]),
    ];
    let svg = horizontal_bars("Kasus terbuka per bidang", &rows);
    well_formed(&svg).unwrap();
    assert!(
        svg.contains(">2.503</text>"),
        "total with a thousands dot: {svg}"
    );
    assert!(
        svg.contains(">Bidang Pelayanan Perizinan Pekerjaan Umum…</text>"),
        "long label shortened at a word: {svg}"
    );
    assert!(
        svg.contains("<title>Bidang Pelayanan Perizinan Pekerjaan Umum dan Penataan Ruang Kota · 0-5 hari: 12</title>"),
        "full label kept in the tooltip: {svg}"
    );
    assert!(svg.contains("&gt; 10 hari"));
}

#[test]
fn empty_charts_say_there_is_no_data() {
    for svg in [
        bar_chart("Kasus masuk", &[]),
        horizontal_bars(
            "Kasus terbuka",
            &[(s("Bidang Usaha"), vec![(s("0-5 hari"), 0)])],
        ),
    ] {
        well_formed(&svg).unwrap();
        assert!(svg.contains("Belum ada data"), "{svg}");
    }
}

#[test]
fn many_days_and_series_stay_inside_the_drawing() {
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    let bars: Vec<(String, Vec<(String, u64)>)> = (0..90)
        .map(|d| {
            let series = names.iter().map(|n| (s(n), d as u64)).collect();
            (format!("hari {d}"), series)
        })
        .collect();
    let svg = bar_chart("Tiga bulan", &bars);
    well_formed(&svg).unwrap();
    // Ten series cycle through the eight colours.
    assert!(svg.contains("fill=\"#0072B2\"><title>i</title>"), "{svg}");
    for x in svg.split(" x=\"").skip(1) {
        let x: f64 = x.split('"').next().unwrap().parse().unwrap();
        assert!((0.0..=360.0).contains(&x), "x = {x}");
    }
}

#[test]
fn numbers_and_scales() {
    assert_eq!(number(0), "0");
    assert_eq!(number(999), "999");
    assert_eq!(number(1000), "1.000");
    assert_eq!(number(1234567), "1.234.567");
    assert_eq!(nice_ceiling(1), 2);
    assert_eq!(nice_ceiling(44), 60);
    assert_eq!(nice_ceiling(100), 100);
    assert_eq!(nice_ceiling(101), 200);
    assert_eq!(nice_ceiling(u64::MAX), u64::MAX);
}
