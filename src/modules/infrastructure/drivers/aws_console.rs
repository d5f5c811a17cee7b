//! The console of an EC2 instance for the AWS driver (`aws.rs`): EC2's serial console, reached
//! over SSH at `<instance>.port0@serial-console.ec2-instance-connect.<region>.aws` with a key
//! AWS accepts for 60 seconds. Zygo makes a fresh Ed25519 key for each console, pushes its
//! public half with EC2 Instance Connect's `SendSerialConsoleSSHPublicKey`, and hands out
//! the private half encrypted (OpenSSH format) with a one-time password: the key and the
//! password are shown once, together, and neither is kept. (The account must allow serial
//! console access: `ec2:EnableSerialConsoleAccess`; AWS refuses otherwise, and says so.)

use ssh_key::{Algorithm, LineEnding, PrivateKey, rand_core::OsRng};

use super::{DriverError, DriverResult, RemoteConsole, aws::Aws};

/// The serial port a console uses (EC2 has one).
const SERIAL_PORT: u32 = 0;

fn key_error(e: ssh_key::Error) -> DriverError {
    DriverError::provider("console_key", format!("could not make a console key: {e}"))
}

impl Aws {
    pub(super) async fn serial_console(&self, id: &str) -> DriverResult<RemoteConsole> {
        let password = crate::auth::tokens::random_token();
        let key = PrivateKey::random(&mut OsRng, Algorithm::Ed25519).map_err(key_error)?;
        let public = key.public_key().to_openssh().map_err(key_error)?;
        // bcrypt-pbkdf on purpose takes a while: off the runtime's threads.
        let sealed = tokio::task::spawn_blocking({
            let password = password.clone();
            move || -> Result<String, ssh_key::Error> {
                Ok(key.encrypt(&mut OsRng, password)?.to_openssh(LineEnding::LF)?.to_string())
            }
        })
        .await
        .map_err(|e| DriverError::provider("console_key", e.to_string()))?
        .map_err(key_error)?;
        let body = serde_json::json!({ "InstanceId": id, "SerialPort": SERIAL_PORT, "SSHPublicKey": public });
        self.json11(
            "ec2-instance-connect",
            "AWSEC2InstanceConnectService.SendSerialConsoleSSHPublicKey",
            &body,
        )
        .await?;
        Ok(RemoteConsole {
            url: format!(
                "ssh://{id}.port{SERIAL_PORT}@serial-console.ec2-instance-connect.{}.aws",
                self.region()
            ),
            password,
            private_key: Some(sealed),
        })
    }
}
