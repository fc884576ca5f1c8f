//! Pane 2: the message browser, its dialogs and the message detail.

use std::sync::Arc;

use kafkaterm::decode::registry::parse_registry_response;
use kafkaterm::worker::protocol::{BrowseEvent, Command, WorkerEvent};
use ratatui::crossterm::event::KeyCode;

use crate::snap::fixtures::{hostile_records, rec, records, starts};
use crate::snap::{H, env};

/// Browse `orders` from the topic list (last 100 per partition), started.
fn browsing(size: (u16, u16)) -> H {
    browsing_with(size, env())
}

fn browsing_with(size: (u16, u16), env: kafkaterm::app::Env) -> H {
    let mut h = H::with(size, env);
    h.ch('/');
    h.typ("orders");
    h.enter();
    h.ch('j');
    h.ch('b');
    h.browse(BrowseEvent::Started {
        partitions: starts(6),
    });
    h
}

/// Browsing `orders` with the 40 ordinary records delivered.
fn with_records(size: (u16, u16)) -> H {
    let mut h = browsing(size);
    h.at(500);
    h.browse(BrowseEvent::Records(records()));
    h
}

/// A record stamped now: the newest by time, so following selects it.
fn newest(mut r: kafkaterm::model::Record) -> kafkaterm::model::Record {
    r.timestamp = Some(crate::snap::NOW);
    r
}

/// Browsing with the hostile records delivered after the ordinary ones.
fn with_hostile(size: (u16, u16)) -> H {
    let mut h = with_records(size);
    h.browse(BrowseEvent::Records(hostile_records()));
    h
}

scenario!(
    browser_no_session,
    "the browser before any topic is opened",
    |size| {
        let mut h = H::new(size);
        h.ch('2');
        h
    }
);

scenario!(
    browser_connecting,
    "b on orders: the session is starting",
    |size| {
        let mut h = H::new(size);
        h.ch('/');
        h.typ("orders");
        h.enter();
        h.ch('j');
        h.ch('b');
        h
    }
);

scenario!(
    browser_waiting_at_end,
    "started at the end of every partition: no messages yet",
    |size| {
        let mut h = browsing(size);
        for p in 0..6 {
            h.browse(BrowseEvent::AtEnd {
                partition: p,
                offset: 200,
            });
        }
        h
    }
);

scenario!(
    browser_records,
    "40 records, newest first and following: JSON, a null key, a tombstone, an empty value, binary, headers",
    |size| with_records(size)
);

scenario!(
    browser_records_oldest_first_utc,
    "oldest first, times in UTC, the selection moved up (not following)",
    |size| {
        let mut h = with_records(size);
        h.ch('r');
        h.ch('t');
        h.ch('k');
        h.ch('k');
        h
    }
);

scenario!(
    browser_paused_marked,
    "paused, not following, three messages marked for export, all partitions at their end",
    |size| {
        let mut h = with_records(size);
        h.ch(' ');
        h.ch('j');
        h.ch('m');
        h.ch('m');
        h.ch('j');
        h.ch('m');
        for p in 0..6 {
            h.browse(BrowseEvent::AtEnd {
                partition: p,
                offset: 201,
            });
        }
        h
    }
);

scenario!(
    browser_hostile,
    "records with ANSI/OSC escapes, C1, bidi, zero-width, invalid UTF-8, CJK and emoji, 1 MiB, 1000 headers",
    |size| with_hostile(size)
);

scenario!(
    browser_filter_editing,
    "typing a filter expression",
    |size| {
        let mut h = with_records(size);
        h.ch('/');
        h.typ("value.amount > 100 and key ~ \"u4\"");
        h
    }
);

scenario!(
    browser_filtered,
    "a filter applied to the buffer: matches over scanned",
    |size| {
        let mut h = with_records(size);
        h.ch('/');
        h.typ("value.amount > 100");
        h.enter();
        h
    }
);

scenario!(
    browser_filter_error,
    "an unparsable filter: the error beside the input",
    |size| {
        let mut h = with_records(size);
        h.ch('/');
        h.typ("value.amount >> 100 &&");
        h.enter();
        h
    }
);

scenario!(
    browser_filter_no_match,
    "a filter that matches no buffered message",
    |size| {
        let mut h = with_records(size);
        h.ch('/');
        h.typ("header.nope");
        h.enter();
        h
    }
);

scenario!(
    browser_search_dialog,
    "n with a filter set: how many matches to search forward for",
    |size| {
        let mut h = with_records(size);
        h.ch('/');
        h.typ("value.currency == \"USD\"");
        h.enter();
        h.ch('n');
        h
    }
);

scenario!(
    browser_search_running,
    "a forward search in progress",
    |size| {
        let mut h = with_records(size);
        h.ch('/');
        h.typ("value.currency == \"USD\"");
        h.enter();
        h.ch('n');
        h.key(KeyCode::Backspace);
        h.key(KeyCode::Backspace);
        h.typ("25");
        h.enter();
        h.at(3_000);
        h.browse(BrowseEvent::SearchProgress {
            scanned: 12_345,
            matched: 3,
            done: false,
        });
        h
    }
);

scenario!(
    browser_search_done,
    "a forward search finished: paused, the result in the status bar",
    |size| {
        let mut h = with_records(size);
        h.ch('/');
        h.typ("value.currency == \"USD\"");
        h.enter();
        h.ch('n');
        h.enter();
        h.browse(BrowseEvent::SearchProgress {
            scanned: 98_000,
            matched: 10,
            done: true,
        });
        h
    }
);

scenario!(
    browser_open_dialog,
    "o: open a topic at a position, with an invalid position typed",
    |size| {
        let mut h = with_records(size);
        h.ch('o');
        h.key_mod(
            KeyCode::Char('u'),
            ratatui::crossterm::event::KeyModifiers::CONTROL,
        );
        h.typ("yesterday");
        h.enter();
        h
    }
);

scenario!(
    browser_open_dialog_fresh,
    "o with no topic open: the topic field focused",
    |size| {
        let mut h = H::new(size);
        h.ch('2');
        h.ch('o');
        h
    }
);

scenario!(
    browser_open_at_time,
    "opened at a time on two partitions: the title names them",
    |size| {
        let mut h = with_records(size);
        h.ch('o');
        h.backtab();
        h.typ("0,3");
        h.tab();
        h.key_mod(
            KeyCode::Char('u'),
            ratatui::crossterm::event::KeyModifiers::CONTROL,
        );
        h.typ("@2026-11-22T09:30:00Z");
        h.enter();
        h
    }
);

scenario!(
    browser_export_dialog,
    "w: save the buffered messages as JSON Lines",
    |size| {
        let mut h = with_records(size);
        h.ch('w');
        h
    }
);

/// The id of the newest copy (or dry run) asked of the worker.
fn copy_id(h: &H) -> u64 {
    h.last_id(|c| match c {
        Command::StartCopy { id, .. } => Some(*id),
        _ => None,
    })
}

/// The copy dialog over two marked messages, the destination typed.
fn copy_form(size: (u16, u16), env: kafkaterm::app::Env) -> H {
    let mut h = browsing_with(size, env);
    h.at(500);
    h.browse(BrowseEvent::Records(records()));
    h.ch('m');
    h.ch('m');
    h.ch('c');
    h.typ("orders-retry");
    h
}

scenario!(
    browser_copy_dialog,
    "C: copy the marked messages to another topic (the form)",
    |size| copy_form(size, env())
);

scenario!(
    browser_copy_range_dialog,
    "C, then space: copy an offset range of one partition, options toggled",
    |size| {
        let mut h = copy_form(size, env());
        h.backtab();
        h.ch(' ');
        for _ in 0..5 {
            h.tab();
        }
        h.ch(' ');
        h.tab();
        h.ch(' ');
        h
    }
);

scenario!(
    browser_copy_confirm_production,
    "the copy's dry-run count on a production cluster: type the destination to confirm",
    |size| {
        let mut e = env();
        e.production = true;
        let mut h = copy_form(size, e);
        h.enter();
        let id = copy_id(&h);
        h.worker(WorkerEvent::Copied {
            id,
            result: Ok(kafkaterm::worker::protocol::CopyReport {
                progress: kafkaterm::worker::protocol::CopyProgress {
                    total: 2,
                    read: 2,
                    selected: 2,
                    ..Default::default()
                },
                dry_run: true,
                outcome: kafkaterm::worker::protocol::CopyOutcome::Complete,
                uncertain: 0,
                resume: None,
            }),
        });
        h.typ("orders-re");
        h
    }
);

scenario!(
    browser_copy_report,
    "the copy's final report after a failure",
    |size| {
        let mut h = copy_form(size, env());
        h.enter();
        let id = copy_id(&h);
        let report =
            |dry_run, confirmed, failed, outcome| kafkaterm::worker::protocol::CopyReport {
                progress: kafkaterm::worker::protocol::CopyProgress {
                    total: 2,
                    read: 2,
                    selected: 2,
                    confirmed,
                    failed,
                    elapsed_ms: 100,
                },
                dry_run,
                outcome,
                uncertain: 0,
                resume: None,
            };
        h.worker(WorkerEvent::Copied {
            id,
            result: Ok(report(
                true,
                0,
                0,
                kafkaterm::worker::protocol::CopyOutcome::Complete,
            )),
        });
        h.enter();
        let id = copy_id(&h);
        h.worker(WorkerEvent::Copied {
            id,
            result: Ok(report(
                false,
                1,
                1,
                kafkaterm::worker::protocol::CopyOutcome::Failed(
                    "message timed out: the broker did not acknowledge it in time".into(),
                ),
            )),
        });
        h
    }
);

scenario!(
    browser_decoders,
    "value decoder hex and key decoder base64 in the list",
    |size| {
        let mut h = with_records(size);
        // auto → text → json → hex
        h.ch('d');
        h.ch('d');
        h.ch('d');
        // auto → text → json → hex → base64
        for _ in 0..4 {
            h.ch('D');
        }
        h
    }
);

scenario!(
    browser_decoder_protobuf,
    "value decoder protobuf (wire format without a schema) on JSON and binary values",
    |size| {
        let mut h = with_records(size);
        for _ in 0..5 {
            h.ch('d');
        }
        h
    }
);

scenario!(
    browser_failed,
    "the session failed: stopped, the error shown",
    |size| {
        let mut h = with_records(size);
        h.browse(BrowseEvent::Failed(
            kafkaterm::worker::protocol::WorkerError::internal(
                "Broker: Unknown topic or partition (the topic was deleted)",
            ),
        ));
        h
    }
);

scenario!(
    browser_recovering,
    "the session reports trouble it is recovering from",
    |size| {
        let mut h = with_records(size);
        h.browse(BrowseEvent::Status(
            "partition 3: leader not available, retrying".into(),
        ));
        h
    }
);

scenario!(
    browser_capped,
    "a buffer capped at 25 messages: the count dropped by the cap",
    |size| {
        let mut e = env();
        e.buffer_max_messages = 25;
        let mut h = browsing_with(size, e);
        h.browse(BrowseEvent::Records(records()));
        h
    }
);

scenario!(
    message_detail_json,
    "the detail of a JSON order with two headers: pretty JSON",
    |size| {
        let mut h = with_records(size);
        h.browse(BrowseEvent::Records(vec![rec(
            2,
            201,
            1_000,
            Some(b"u42"),
            Some(&crate::snap::fixtures::order_json(7)),
            &[
                ("trace-id", Some(b"4bf92f3577b34da6a3ce929d0e0e4736")),
                ("content-type", Some(b"application/json")),
                ("null-header", None),
            ],
        )]));
        h.enter();
        h
    }
);

scenario!(
    message_detail_local_time_scrolled,
    "the JSON detail in local time, scrolled down three lines",
    |size| {
        let mut h = with_records(size);
        h.ch('t');
        h.browse(BrowseEvent::Records(vec![rec(
            2,
            201,
            1_000,
            Some(b"u42"),
            Some(&crate::snap::fixtures::order_json(8)),
            &[],
        )]));
        h.enter();
        h.ch('t');
        h.ch('j');
        h.ch('j');
        h.ch('j');
        h
    }
);

scenario!(
    message_detail_tombstone,
    "the detail of a tombstone with a null key",
    |size| {
        let mut h = with_records(size);
        h.browse(BrowseEvent::Records(vec![rec(0, 202, 0, None, None, &[])]));
        h.enter();
        h
    }
);

scenario!(
    message_detail_escapes,
    "the detail of a record whose key, value and header hold escapes and bidi controls",
    |size| {
        let mut h = with_records(size);
        let mut r = newest(hostile_records()[0].clone());
        r.value = Some(
            "\x1b]0;PWNED\x07title\n\u{202e}reversed\u{202c} \u{200b}zw \u{9b}2J\nok \u{85}"
                .as_bytes()
                .to_vec(),
        );
        h.browse(BrowseEvent::Records(vec![r]));
        h.enter();
        h
    }
);

scenario!(
    message_detail_invalid_utf8_hex,
    "invalid UTF-8 in the detail, then the value decoder switched to hex",
    |size| {
        let mut h = with_records(size);
        h.browse(BrowseEvent::Records(vec![newest(
            hostile_records()[4].clone(),
        )]));
        h.enter();
        h.ch('d');
        h.ch('d');
        h.ch('d');
        h
    }
);

scenario!(
    message_detail_wide_text,
    "CJK and emoji in key, value and a header",
    |size| {
        let mut h = with_records(size);
        h.browse(BrowseEvent::Records(vec![newest(
            hostile_records()[5].clone(),
        )]));
        h.enter();
        h
    }
);

scenario!(
    message_detail_many_headers,
    "a record with 1000 headers: the first screen, header focus moved by Tab",
    |size| {
        let mut h = with_records(size);
        h.browse(BrowseEvent::Records(vec![hostile_records()[6].clone()]));
        h.enter();
        h.tab();
        h.tab();
        h
    }
);

scenario!(
    message_detail_huge,
    "a 1 MiB value: the detail wraps it, scrolled to the end",
    |size| {
        let mut h = with_records(size);
        h.browse(BrowseEvent::Records(vec![hostile_records()[7].clone()]));
        h.enter();
        h.ch('G');
        h
    }
);

scenario!(
    message_detail_registry_avro,
    "an Avro value decoded through a Schema Registry schema fetched by id",
    |size| {
        let mut e = env();
        e.registry_configured = true;
        let mut h = browsing_with(size, e);
        // Magic byte 0, schema id 42, then the Avro record {name, qty, price}.
        let mut value = vec![0, 0, 0, 0, 42];
        value.extend_from_slice(&[0x0c]);
        value.extend_from_slice(b"widget");
        value.extend_from_slice(&[0x06]);
        value.extend_from_slice(&[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x29, 0x40]);
        h.browse(BrowseEvent::Records(vec![rec(
            0,
            7,
            2_000,
            Some(b"sku-1"),
            Some(&value),
            &[],
        )]));
        let requested = h
            .cmds
            .iter()
            .any(|c| matches!(c, Command::FetchSchema { schema_id: 42 }));
        assert!(requested, "the schema was requested");
        let body = r#"{"schema":"{\"type\":\"record\",\"name\":\"Item\",\"fields\":[{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"qty\",\"type\":\"int\"},{\"name\":\"price\",\"type\":\"double\"}]}"}"#;
        h.worker(WorkerEvent::Schema {
            schema_id: 42,
            result: Ok(Arc::new(parse_registry_response(42, body).expect("schema"))),
        });
        h.enter();
        h
    }
);
