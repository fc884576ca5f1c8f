use super::*;

fn dialog() -> CopyDialog {
    CopyDialog::new(
        "dlq",
        vec![(0, 4), (1, 9)],
        Some(("key ~ \"x\"".into(), vec![(0, 4)])),
        Some((2, 17)),
    )
}

#[test]
fn the_marked_messages_come_first_and_space_cycles_the_source() {
    let mut d = dialog();
    assert_eq!(d.source, Source::Marked);
    d.focus = 0;
    let space = KeyEvent::from(KeyCode::Char(' '));
    d.on_text_key(space);
    assert_eq!(d.source, Source::Filtered);
    d.on_text_key(space);
    assert_eq!(d.source, Source::Range);
    assert_eq!(
        (d.partition.text.as_str(), d.first.text.as_str()),
        ("2", "17")
    );
    d.on_text_key(space);
    assert_eq!(d.source, Source::Marked);
    let plain = CopyDialog::new("dlq", vec![], None, None);
    assert_eq!(plain.source, Source::Range);
    assert_eq!(plain.sources(), vec![Source::Range]);
}

#[test]
fn the_form_builds_the_spec_it_shows() {
    let mut d = dialog();
    assert_eq!(d.build().unwrap_err(), FormError::NoDestination);
    d.dest = LineInput::with("dlq");
    assert_eq!(
        d.build().unwrap_err().to_string(),
        "the destination is the topic being browsed: choose another"
    );
    d.dest = LineInput::with("orders");
    let s = d.build().unwrap();
    assert_eq!(s.selection, CopySelection::Messages(vec![(0, 4), (1, 9)]));
    assert!(s.keep_timestamps && !s.keep_partitions && !s.source_header);
    assert_eq!(s.filter, None);
    d.source = Source::Range;
    d.last = LineInput::with("20");
    let s = d.build().unwrap();
    assert_eq!(
        s.selection,
        CopySelection::Range {
            partitions: Some(vec![2]),
            start: CopyStart::At(StartAt::Offset(17)),
            end: Some(21),
        }
    );
    assert_eq!(s.filter.as_deref(), Some("key ~ \"x\""));
    d.last = LineInput::with("3");
    assert_eq!(d.build().unwrap_err(), FormError::LastBeforeFirst);
    d.partition = LineInput::with("x");
    assert_eq!(d.build().unwrap_err(), FormError::NoPartition);
}
