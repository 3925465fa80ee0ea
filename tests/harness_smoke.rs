//! Proves the test harness (`tests/support`): every server starts, is reachable the way loket
//! will reach it, and hands back what was put in.

mod support;

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

const RAW: &[u8] = b"From: Budi Santoso <budi@example.com>\r\n\
To: perizinan@example.go.id\r\n\
Subject: Permohonan PBG\r\n\
Message-ID: <smoke-1@example.com>\r\n\
\r\n\
Dengan hormat, saya mengajukan permohonan PBG.\r\n";

#[tokio::test]
async fn message_appended_to_inbox_can_be_read_back_and_moved_folders_exist() {
    let imap = support::dovecot();
    let (user, pass) = imap.new_user();

    assert_eq!(
        imap.mailboxes(&user, &pass).await,
        ["INBOX"],
        "no folder is auto-created"
    );
    imap.append(&user, &pass, "INBOX", RAW).await;
    assert_eq!(imap.list(&user, &pass, "INBOX").await, [RAW.to_vec()]);

    imap.create_mailbox(&user, &pass, "Processed").await;
    assert_eq!(imap.mailboxes(&user, &pass).await, ["INBOX", "Processed"]);
    assert!(imap.list(&user, &pass, "Processed").await.is_empty());
}

#[tokio::test]
async fn users_are_isolated() {
    let imap = support::dovecot();
    let (a, pa) = imap.new_user();
    let (b, pb) = imap.new_user();
    assert_ne!(a, b);
    imap.append(&a, &pa, "INBOX", RAW).await;
    assert!(imap.list(&b, &pb, "INBOX").await.is_empty());
}

#[tokio::test]
async fn imaps_works_with_the_self_signed_cert_and_offers_idle_and_move() {
    let imap = support::dovecot();
    let (user, pass) = imap.new_user();
    let mut session = imap.login_tls(&user, &pass).await;
    let caps = session.capabilities().await.expect("CAPABILITY");
    assert!(caps.has_str("IDLE"), "IDLE missing");
    assert!(caps.has_str("MOVE"), "MOVE missing");
    session
        .select("INBOX")
        .await
        .expect("SELECT INBOX over TLS");
    session.logout().await.expect("LOGOUT");
}

#[tokio::test]
async fn mail_sent_with_lettre_lands_in_the_sink() {
    let sink = support::smtp();
    let to = "smoke-lettre@example.com";
    let mail = Message::builder()
        .from("DPMPTSP <perizinan@example.go.id>".parse().unwrap())
        .to(to.parse().unwrap())
        .subject("Tanda terima PSR-TEST")
        .header(ContentType::TEXT_PLAIN)
        .body("Permohonan Anda telah kami terima.".to_string())
        .unwrap();
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&sink.host)
        .port(sink.port)
        .build();
    mailer.send(mail).await.expect("send through the sink");

    let got = sink.wait_for(to, 1, Duration::from_secs(10)).await;
    let text = String::from_utf8_lossy(&got[0]);
    assert!(text.contains("Subject: Tanda terima PSR-TEST"), "{text}");
    assert!(sink.messages_to("someone-else@example.com").is_empty());
}

#[tokio::test]
async fn dead_smtp_port_refuses_and_a_private_sink_can_go_down_and_come_back() {
    let dead = support::dead_smtp_port();
    let err = tokio::net::TcpStream::connect((support::HOST, dead))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);

    let sink = support::new_smtp_sink();
    sink.stop();
    assert!(
        tokio::net::TcpStream::connect((sink.host.as_str(), sink.port))
            .await
            .is_err()
    );
    sink.start();
    assert!(
        tokio::net::TcpStream::connect((sink.host.as_str(), sink.port))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn postgres_database_answers_select_1() {
    let Some(pg) = support::postgres() else {
        return;
    };
    let url = pg.new_database();
    let pool = sqlx::PgPool::connect(&url)
        .await
        .expect("connect to the new database");
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(one, 1);
    assert_ne!(pg.new_database(), url, "each call makes a new database");
    pool.close().await;
}
