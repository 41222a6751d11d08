//! Extra trusted certificates from SSL_CERT_FILE (corporate proxies, a
//! local org over https).

use salesforce::App;
use sf_emulator::Emulator;

#[tokio::test]
async fn ssl_cert_file_is_trusted() {
    let org = Emulator::start(sf_emulator::Config {
        tls: true,
        ..Default::default()
    })
    .await
    .unwrap();
    // SAFETY: set before any other thread of this test process reads it.
    #[allow(unsafe_code)] // nextest runs each test in its own process
    unsafe {
        std::env::set_var("SSL_CERT_FILE", org.cert_path().unwrap())
    };
    let app = App {
        client_id: "tls".into(),
        client_secret: Some("s".into()),
    };
    let tokens = salesforce::auth::client_credentials(org.base_url(), &app).await;
    assert!(tokens.is_ok(), "{:?}", tokens.unwrap_err());
}
