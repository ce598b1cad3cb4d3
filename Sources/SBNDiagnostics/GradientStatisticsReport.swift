import Foundation
import SBNStorage

extension GradientStatistics {
    /// The table as Markdown, one row per estimator.
    public func markdown() -> String {
        let layers = rows.first?.variancePerLayer.count ?? 0
        var lines = [
            "\(architecture), m = \(samples), τ = \(temperature), \(estimates) estimates each; ‖∇‖ = "
                + String(format: "%.4g", referenceNorm) + " (reference: \(referenceText)"
                + (referenceRelativeError > 0 ? String(format: ", relative standard error %.4f", referenceRelativeError) : "")
                + ")", "",
            "| estimator | ‖bias‖ | relative bias | noise floor | variance (trace) | "
                + (1...max(layers, 1)).map { "var. layer \($0)" }.joined(separator: " | ")
                + " | cosine | " + (1...max(layers, 1)).map { "cos. layer \($0)" }.joined(separator: " | ")
                + " | µs per estimate | forward passes |",
            "|" + String(repeating: "---|", count: 8 + 2 * max(layers, 1)),
        ]
        for r in rows {
            let cells =
                [
                    r.estimator, String(format: "%.4g", r.biasNorm), String(format: "%.3f", r.relativeBias),
                    String(format: "%.3f", r.noiseFloor), String(format: "%.4g", r.varianceTrace),
                ]
                + r.variancePerLayer.map { String(format: "%.4g", $0) }
                + [
                    String(format: "%.4f", r.cosine)
                ] + r.cosinePerLayer.map { String(format: "%.4f", $0) }
                + [
                    String(format: "%.1f", r.microseconds), String(format: "%.2f", r.forwardEquivalents),
                ]
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        if !notes.isEmpty { lines += ["", "Note: " + notes.joined(separator: "; ")] }
        if !skipped.isEmpty { lines += ["", "Left out: " + skipped.joined(separator: "; ")] }
        return lines.joined(separator: "\n")
    }

    /// Writes the table to HDF5 (docs/results-schema.md, "gradstats files"), atomically.
    public func write(to path: String) throws {
        try AtomicFile.writeHDF5(to: path) { f in
            try f.setAttribute("architecture", architecture)
            try f.setAttribute("samples", Int64(samples))
            try f.setAttribute("estimates", Int64(estimates))
            try f.setAttribute("temperature", Double(temperature))
            try f.setAttribute("reference_norm", referenceNorm)
            try f.setAttribute("reference", referenceText)
            try f.setAttribute("reference_relative_error", referenceRelativeError)
            try f.setAttribute("skipped", skipped.joined(separator: "; "))
            try f.setAttribute("notes", notes.joined(separator: "; "))
            try f.setAttribute("sbnlab_version", Provenance.version)
            try f.writeStrings("estimator", rows.map(\.estimator))
            try f.write("bias_norm", rows.map(\.biasNorm))
            try f.write("relative_bias", rows.map(\.relativeBias))
            try f.write("noise_floor", rows.map(\.noiseFloor))
            try f.write("variance_trace", rows.map(\.varianceTrace))
            let layers = rows.first?.variancePerLayer.count ?? 0
            try f.write("variance_per_layer", rows.flatMap(\.variancePerLayer), shape: [rows.count, layers])
            try f.write("cosine", rows.map(\.cosine))
            try f.write("min_layer_cosine", rows.map(\.minLayerCosine))
            try f.write("cosine_per_layer", rows.flatMap(\.cosinePerLayer), shape: [rows.count, layers])
            try f.write("microseconds", rows.map(\.microseconds))
            try f.write("forward_equivalents", rows.map(\.forwardEquivalents))
        }
    }
}
