import ArgumentParser

@main
struct SBNLabCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sbnlab",
        abstract: "Stochastic binary networks and their gradient estimators.",
        subcommands: [
            DataCommand.self, RunCommand.self, SweepCommand.self, CollectCommand.self, ShowCommand.self, EvalCommand.self,
            FigureCommand.self,
            GradStatsCommand.self,
            ImputeCommand.self, ListCommand.self, BenchCommand.self, CheckFileCommand.self,
        ])

    /// Installs the isolated reading of untrusted files (`IsolatedRead`), then runs the command.
    static func main() async {
        IsolatedRead.install()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
