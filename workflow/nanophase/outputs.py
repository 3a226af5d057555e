"""The stems of the tables and figures a study writes, without the modules that write them.

The workflow's rule files name their outputs when Snakemake parses them (every start-up and dry run);
importing the writers for these tuples would load matplotlib and the analysis stack each time.
"""

# the tables a study writes, in the order a reader meets them (stems of results/tables/<stem>.*)
TABLE_STEMS = (
    "records",
    "chemical_potentials",
    "vacancy_formation",
    "formation_energy_scan",
    "phase_stability",
    "configurations",
    "surface_energies",
    "phase_competition",
    "phase_map",
    "phase_conclusions",
    "interface_energies",
    "interface_ordering",
    "knockon_limits",
    "knockon_sites",
)
FIGURE_STEMS = (
    "knockon",
    "energy_per_atom",
    "formation_energy_mu",
    "phase_competition",
    "phase_map",
    "interface_energy",
)
PARTICLE_FIGURE_STEMS = ("xrd_patterns", "xrd_trends", "particle_strain")
