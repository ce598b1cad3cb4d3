import ArgumentParser

@main
struct SBNLabCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sbnlab",
        abstract: "Stochastic binary networks and their gradient estimators.",
        subcommands: [
            DataCommand.self, RunCommand.self, SweepCommand.self, CollectCommand.self, ShowCommand.self, FigureCommand.self,
            GradStatsCommand.self,
            ImputeCommand.self, ListCommand.self, BenchCommand.self,
        ])
}
