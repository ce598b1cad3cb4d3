import ArgumentParser
import Foundation
import SBNLab

/// `sbnlab list`: experiments in a folder with their descriptions, and the registered plugins.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List experiment definitions, estimators, schedules and optimizers.")

    @Option(help: "Folder of experiment definitions.")
    var folder = "experiments"

    func run() throws {
        try reportingErrors {
            let files = try FileManager.default.contentsOfDirectory(atPath: folder)
                .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".json") }.sorted()
            print("experiments (make exp-<name>):")
            for f in files {
                let tree = try ConfigTree.load(folder + "/" + f)
                let name = (f as NSString).deletingPathExtension
                print("  \(name.padding(toLength: 22, withPad: " ", startingAt: 0)) \(tree["description"] as? String ?? "")")
            }
            print("estimators:")
            for e in EstimatorRegistry.all { print("  \(e.name.padding(toLength: 22, withPad: " ", startingAt: 0)) \(e.summary)") }
            print("temperature schedules: \(ScheduleRegistry.names.joined(separator: ", "))")
            print("optimizers: \(OptimizerRegistry.names.joined(separator: ", "))")
            print("OpenBLAS: \(BLAS.threads) threads by default on \(ProcessInfo.processInfo.activeProcessorCount) cores (\(BLAS.configuration))")
        }
    }
}
