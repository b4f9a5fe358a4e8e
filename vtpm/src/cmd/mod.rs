//! One module per subcommand.

pub mod image;
pub mod manufacture;
pub mod run;
pub mod state;
pub mod swtpm;
pub mod swtpm_ioctl;
pub mod swtpm_setup;
pub mod version;

use crate::cli::Command;
use crate::error::Error;

/// Runs the chosen subcommand.
pub fn run(command: &Command) -> Result<(), Error> {
    match command {
        Command::Run(args) => run::run(args),
        Command::Manufacture(args) => manufacture::run(args),
        Command::State(crate::cli::StateCommand::Show(args)) => state::show(args),
        // Dispatched by main before the logger is set up.
        Command::Swtpm(args) => swtpm::run(&args.args, true),
        Command::SwtpmIoctl(args) => swtpm_ioctl::run(&args.args),
        Command::SwtpmSetup(args) => swtpm_setup::run(&args.args, true),
        Command::Image(crate::cli::ImageCommand::Build(args)) => image::build(args),
        Command::Image(crate::cli::ImageCommand::Measure(args)) => image::measure(args),
        Command::Version => {
            version::run();
            Ok(())
        }
    }
}
