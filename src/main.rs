use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = kafkaterm::cli::Cli::parse();
    match kafkaterm::run(cli) {
        Ok(code) => code,
        Err(e) => {
            kafkaterm::term::restore();
            eprintln!("kafkaterm: {}", kafkaterm::error_line(&e));
            ExitCode::from(1)
        }
    }
}
