import SBNModel
import SBNTensor

/// The first-order Taylor term of the loss around h̄_l for hidden layer l, per row:
///
///   t_l(h_l) = f′(h̄)ᵀ (h_l − h̄_l),   so that   b_l(h_l) = f(h̄) + t_l(h_l)
///
/// is the Taylor baseline of Gu et al. 2016, eq. 3 (Jang et al. 2017 §3.2). f′(h̄) = ∂f/∂h_l is
/// read from `expansion` (a companion model that has run a `forwardMean` pass) and h̄_l from
/// `point`: the mean-field values for MuProp, ½ or 1/K for DARN. m = 1, so rows are images.
func taylorTerm(
    _ model: any LatentModel, layer l: Int, expansion: any LatentModel, point: Matrix,
    into term: UnsafeMutableBufferPointer<Double>
) {
    let cols = model.width(l)
    for r in 0..<model.imageCount {
        let h = model.units[l].row(r), hBar = point.row(r), fPrime = expansion.gradUnits[l].row(r)
        var taylor = 0.0
        for c in 0..<cols { taylor += Double(fPrime[c]) * Double(h[c] - hBar[c]) }
        term[r] = taylor
    }
}

/// Per hidden layer, every capacity row set to the centre of the unit kind's support: ½ for a
/// Bernoulli unit, 1/K for a K-way categorical (its mean at zero logits). DARN's h̄ (Gregor et al.
/// 2014; Gu et al. 2016 eqs. 5–7).
func supportCentres(_ model: any LatentModel) -> [Matrix] {
    let centre = model.layerBuffers(), zeros = model.layerBuffers(), local = model.layerBuffers()
    let rows = model.capacityImages * model.samples
    for l in 1..<model.layerCount {
        for m in [centre[l], zeros[l], local[l]] { m.setRows(rows) }
        zeros[l].pointer.update(repeating: 0, count: rows * model.width(l))
        model.units(of: l).sample(
            .mean, logits: zeros[l].pointer, noise: zeros[l].pointer, values: centre[l].pointer,
            local: local[l].pointer, rows: rows, temperature: 1)
    }
    return centre
}
