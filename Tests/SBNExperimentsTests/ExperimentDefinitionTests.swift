import Foundation
import SBNConfig
import SBNSweeps
import SBNTestSupport
import Testing

/// The committed experiment definitions, read as `make exp-<name>` reads them. A definition that
/// no longer resolves fails only when someone runs it: `sbn-st-annealed`'s `slope` schedule
/// inherited `tau` from `sbn-gs`'s `fixed` one when `extends:` merged them, and `make
/// exp-sbn-st-annealed` stopped with "temperature.tau: unknown option for slope".
@Suite struct ExperimentDefinitionTests {
    @Test func everyDefinitionResolves() throws {
        let dir = TestPaths.packageRoot + "/experiments"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files.count >= 60, "\(files.count) definitions")
        for file in files {
            let path = dir + "/" + file
            let text = try String(contentsOfFile: path, encoding: .utf8)
            // The Makefile's test: a definition with a top-level `sweep:` runs as a sweep.
            let isSweep = text.split(separator: "\n").contains { $0.hasPrefix("sweep:") }
            do {
                if isSweep { _ = try SweepDefinition.load(path) } else { _ = try ConfigLoader.load(path) }
            } catch {
                Issue.record("\(file): \(error)")
            }
        }
    }

    /// `extends:` with another schedule replaces the parent's schedule and its options whole;
    /// with the same schedule, the child's options are merged over the parent's.
    @Test func anotherScheduleReplacesTheParents() throws {
        let folder = ExperimentFolder()
        _ = try folder.write(
            "parent.yaml", "name: parent\ntemperature: {schedule: exponential, tau: 2.0, tau_min: 0.3, rate: 1.0e-4, every: 100}")
        let other = try ConfigLoader.load(
            try folder.write("other.yaml", "extends: parent\ntemperature: {schedule: fixed, tau: 0.25}"))
        #expect(other.json.contains(#""temperature":{"schedule":"fixed","tau":0.25}"#), "\(other.json)")
        let same = try ConfigLoader.load(
            try folder.write("same.yaml", "extends: parent\ntemperature: {schedule: exponential, rate: 0.001}"))
        #expect(
            same.json.contains(#""temperature":{"every":100,"rate":0.001,"schedule":"exponential","tau":2,"tau_min":0.3}"#),
            "\(same.json)")
    }
}
