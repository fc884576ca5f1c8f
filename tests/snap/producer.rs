//! Pane 3: the producer composer, its options, delivery reports, history,
//! templates and the JSON Lines file dialog.

use kafkaterm::model::Delivery;
use kafkaterm::worker::protocol::{BrowseEvent, ProduceProgress};
use ratatui::crossterm::event::KeyCode;

use crate::snap::fixtures::{rec, records, starts};
use crate::snap::{H, NOW, env};

/// The producer pane, focus in the topic field.
fn composer(size: (u16, u16)) -> H {
    let mut h = H::new(size);
    h.ch('3');
    h
}

/// A message for `orders` with partition 2, a key, two headers and a JSON
/// value, focus left in the value.
fn filled(size: (u16, u16)) -> H {
    let mut h = composer(size);
    h.typ("orders");
    h.tab();
    h.ctrl('u');
    h.typ("2");
    h.tab();
    h.tab();
    h.tab();
    h.tab();
    h.typ("u42");
    h.enter(); // the key field moves on with Enter
    h.typ("trace-id: 4bf92f3577b34da6\ncontent-type: application/json");
    h.tab();
    h.typ("{\"id\": \"o-1001\", \"amount\": 129.5, \"currency\": \"EUR\"}");
    h
}

fn progress(queued: u64, delivered: u64, failed: u64, done: bool) -> ProduceProgress {
    ProduceProgress {
        queued,
        delivered,
        failed,
        first_error: None,
        last: None,
        elapsed_ms: 1_250,
        done,
    }
}

fn delivered_once(h: &mut H) {
    h.ctrl('s');
    h.produce(ProduceProgress {
        last: Some(Delivery {
            partition: 2,
            offset: 41_977,
            timestamp: Some(NOW),
            latency_ms: 3.24,
        }),
        ..progress(1, 1, 0, true)
    });
}

scenario!(
    producer_empty,
    "the composer before anything is typed",
    |size| composer(size)
);

scenario!(
    producer_filled,
    "topic, partition, key, two headers and a JSON value typed",
    |size| filled(size)
);

scenario!(
    producer_invalid_json,
    "a value that is not JSON: the error with its position",
    |size| {
        let mut h = composer(size);
        h.typ("orders");
        for _ in 0..7 {
            h.tab();
        }
        h.typ("{\n  \"a\": ,\n}");
        h
    }
);

scenario!(
    producer_options_row,
    "the options row changed: acks 0, compression zstd, key and value as hex (the JSON value is not hex)",
    |size| {
        let mut h = filled(size);
        h.esc();
        // acks: all → 0 → 1 (Down cycles forward)
        h.key(KeyCode::Down);
        h.key(KeyCode::Down);
        h.key(KeyCode::Right);
        for _ in 0..4 {
            h.key(KeyCode::Char(' '));
        }
        h.key(KeyCode::Right);
        h.key(KeyCode::Right);
        h.key(KeyCode::Enter);
        h.key(KeyCode::Enter);
        h.key(KeyCode::Right);
        // value: json → text → base64 → hex (Up changes backwards)
        h.key(KeyCode::Up);
        h.key(KeyCode::Up);
        h.key(KeyCode::Up);
        h.key(KeyCode::Left);
        h.key(KeyCode::Left);
        h.key(KeyCode::Left);
        h
    }
);

scenario!(
    producer_idempotent,
    "idempotence on (acks forced to all) and a null value (tombstone)",
    |size| {
        let mut h = filled(size);
        h.ctrl('n');
        h.esc();
        h.key(KeyCode::Right);
        h.key(KeyCode::Right);
        h.key(KeyCode::Char(' '));
        h
    }
);

scenario!(
    producer_null_key_template,
    "a null key and a templated value sent 500 times",
    |size| {
        let mut h = composer(size);
        h.typ("orders");
        h.tab();
        h.tab();
        h.key(KeyCode::Backspace);
        h.typ("500");
        h.tab();
        h.tab();
        h.tab();
        h.ctrl('n');
        h.tab();
        h.tab();
        h.typ("{\"i\": {{i}}, \"id\": \"{{uuid}}\", \"at\": {{now}}}");
        h
    }
);

scenario!(
    producer_in_flight,
    "1,000 messages sending: progress in the results",
    |size| {
        let mut h = filled(size);
        for _ in 0..5 {
            h.backtab(); // value → headers → key → options → timestamp → count
        }
        h.ctrl('u');
        h.typ("1000");
        h.ctrl('s');
        h.at(1_250);
        h.produce(progress(1000, 420, 0, false));
        h
    }
);

scenario!(
    producer_delivered,
    "a single message delivered: partition, offset, latency, timestamp",
    |size| {
        let mut h = filled(size);
        delivered_once(&mut h);
        h
    }
);

scenario!(
    producer_results_mixed,
    "three results: a batch delivered, a broker error, a single delivery",
    |size| {
        let mut h = filled(size);
        h.ctrl('s');
        h.produce(progress(1, 1, 0, true));
        h.ctrl('s');
        h.produce(ProduceProgress {
            first_error: Some("Broker: Message size too large (MSG_SIZE_TOO_LARGE)".into()),
            ..progress(1, 0, 1, true)
        });
        delivered_once(&mut h);
        h
    }
);

scenario!(
    producer_broker_error,
    "the broker refused the message: the error in the results and the status bar",
    |size| {
        let mut h = filled(size);
        h.ctrl('s');
        h.produce(ProduceProgress {
            first_error: Some(
                "Broker: Topic authorization failed: not allowed to write to orders".into(),
            ),
            ..progress(1, 0, 1, true)
        });
        h
    }
);

scenario!(
    producer_not_sent,
    "Ctrl-S without a topic: not sent, the reason in the status bar",
    |size| {
        let mut h = composer(size);
        h.ctrl('s');
        h
    }
);

scenario!(
    producer_read_only,
    "the producer on a read-only cluster",
    |size| {
        let mut e = env();
        e.read_only = true;
        let mut h = H::with(size, e);
        h.ch('3');
        h
    }
);

scenario!(
    producer_hostile_paste,
    "pasted escapes and bidi controls land in the value as visible escapes",
    |size| {
        let mut h = composer(size);
        h.typ("orders");
        for _ in 0..7 {
            h.tab();
        }
        h.paste("evil \x1b]0;PWNED\x07 \x1b[2J \u{202e}rev\u{202c} \u{200b}zw\ttab\r\nnext line");
        h
    }
);

scenario!(
    producer_resend_from_browser,
    "e on a browsed record: the composer filled, the value base64; the key 0xDE 0xAD is U+07AD, a lone combining mark",
    |size| {
        let mut h = H::new(size);
        h.ch('b');
        h.browse(BrowseEvent::Started {
            partitions: starts(6),
        });
        h.browse(BrowseEvent::Records(records()));
        h.browse(BrowseEvent::Records(vec![rec(
            4,
            300,
            0,
            Some(&[0xde, 0xad]),
            Some(&[0x00, 0xff, 0x10, 0x80]),
            &[("trace-id", Some(b"abc")), ("gone", None)],
        )]));
        h.ch('e');
        h
    }
);

scenario!(
    producer_history,
    "Ctrl-R after two sends: the history picker",
    |size| {
        let mut h = filled(size);
        delivered_once(&mut h);
        h.at(65_000);
        h.typ(" ");
        h.ctrl('s');
        h.ctrl('r');
        h
    }
);

scenario!(producer_history_empty, "Ctrl-R before any send", |size| {
    let mut h = composer(size);
    h.ctrl('r');
    h
});

scenario!(
    producer_templates,
    "Ctrl-T with two saved templates",
    |size| {
        let mut h = filled(size);
        h.ctrl('t');
        h.ch('s');
        h.typ("order-eur");
        h.enter();
        h.ctrl('t');
        h.ch('s');
        h.typ("another");
        h.enter();
        h.ctrl('t');
        h
    }
);

scenario!(
    producer_templates_empty,
    "Ctrl-T with no template saved yet",
    |size| {
        let mut h = composer(size);
        h.ctrl('t');
        h
    }
);

scenario!(producer_save_template, "naming a template", |size| {
    let mut h = filled(size);
    h.ctrl('t');
    h.ch('s');
    h.typ("order-eur");
    h
});

scenario!(
    producer_jsonl_dialog,
    "Ctrl-O: send a JSON Lines file",
    |size| {
        let mut h = filled(size);
        h.ctrl('o');
        h
    }
);

scenario!(
    producer_jsonl_sending,
    "a JSON Lines file being sent: its size learned as it goes",
    |size| {
        let mut h = filled(size);
        h.ctrl('o');
        h.enter();
        h.produce(progress(3_000, 1_200, 0, false));
        h
    }
);

scenario!(
    producer_transaction,
    "transaction mode: the generated transactional.id on the frame, a send committed, then one refused by the cluster",
    |size| {
        use kafkaterm::model::TxnOutcome;
        let mut h = filled(size);
        h.esc();
        for _ in 0..6 {
            h.key(KeyCode::Right);
        }
        h.key(KeyCode::Char(' ')); // txn: off → commit
        h.ctrl('s');
        h.txn_ended(TxnOutcome::Committed);
        h.produce(ProduceProgress {
            last: Some(Delivery {
                partition: 2,
                offset: 41_977,
                timestamp: Some(NOW),
                latency_ms: 3.24,
            }),
            ..progress(1, 1, 0, true)
        });
        h.ctrl('s');
        h.txn_ended(TxnOutcome::NotStarted);
        h.produce(ProduceProgress {
            first_error: Some(
                "starting the transaction: the cluster refused transactions: not authorized for this transactional.id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED)".into(),
            ),
            ..progress(0, 0, 1, true)
        });
        h
    }
);
