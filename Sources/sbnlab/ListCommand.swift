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
                let name = (f as NSString).deletingPathExtension
                // One broken file is listed as such; the others are still listed.
                do {
                    let tree = try ConfigNode.load(folder + "/" + f)
                    print("  \(pad(name)) \(tree["description"]?.string ?? "")")
                } catch {
                    print("  \(pad(name)) (unreadable: \(sbnlab.message(error)))")
                }
            }
            list("estimators (estimator, estimator_options)", EstimatorRegistry.registry.all) { type in
                (type as? any GradientEstimator.Type)?.applicability
            }
            list("model families (model: {family, …})", ModelFamilies.registry.all)
            list("temperature schedules (temperature: {schedule, …})", ScheduleRegistry.registry.all)
            list("optimizers (optimizer, optimizer_options)", OptimizerRegistry.registry.all)
            list("learning-rate schedules (lr_schedule: {schedule, …})", LearningRateSchedules.registry.all)
            print("code \(Provenance.codeVersion)")
            print(
                "OpenBLAS: \(BLAS.threads) threads by default on \(RuntimeOptions.availableCores) cores (\(BLAS.configuration))"
            )
        }
    }

    /// A name column of 22 characters; a longer name is printed whole (never cut), its line shifted.
    func pad(_ s: String) -> String { s.count >= 22 ? s : s.padding(toLength: 22, withPad: " ", startingAt: 0) }

    /// Each component with its summary and its options (defaults).
    func list(_ title: String, _ components: [any Component.Type], detail: (any Component.Type) -> String? = { _ in nil }) {
        print("\(title):")
        for c in components {
            let keys = c.optionKeys
            print("  \(pad(c.name)) \(c.summary)" + (keys.isEmpty ? "" : " [options: \(keys.joined(separator: ", "))]"))
            if let line = detail(c) { print("  \(pad("")) \(line)") }
        }
    }
}
