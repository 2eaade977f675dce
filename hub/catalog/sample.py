"""A large, realistic, reproducible catalogue for demos and benchmarks.

``edgehub demo --products 50000`` loads what ``generate(50000)`` yields: names
built from brands, products, variants and sizes of a European deli-restaurant
(accents included: Crème, Jalapeño, Müsli, Smørrebrød), valid EAN-13 barcodes
under real GS1 country prefixes, unique internal references, categories and
kitchen stations. The same ``seed`` always yields the same catalogue, so
barcodes found in one run are found in the next and loading is idempotent.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

# GS1 prefixes by country of the brand: the first three digits of an EAN-13.
_GS1 = {"fr": 300, "de": 400, "it": 800, "es": 840, "pt": 560, "uk": 500, "be": 540, "dk": 570}

BRANDS: tuple[tuple[str, str], ...] = (
    ("Maison Lefèvre", "fr"),
    ("Les Délices d'Hélène", "fr"),
    ("Château Rouvière", "fr"),
    ("Fromagerie Béchamel", "fr"),
    ("Brasserie Côté Sud", "fr"),
    ("Pâtisserie Aubépine", "fr"),
    ("Bäckerei Müller", "de"),
    ("Hofgut Schönblick", "de"),
    ("Grüner Weg", "de"),
    ("Käserei Allgäu", "de"),
    ("Brauhaus Störtebeker", "de"),
    ("Mühle Jürgens", "de"),
    ("Caseificio Lucàno", "it"),
    ("Pastificio Dell'Orso", "it"),
    ("Forno Santa Lucía", "it"),
    ("Oleificio Bellavista", "it"),
    ("Torrefazione Caffè Nerò", "it"),
    ("Dolciaria Ginevra", "it"),
    ("Bodega Peñafiel", "es"),
    ("Conservas Ibáñez", "es"),
    ("Jamones Cañada", "es"),
    ("Huerta Valenciana", "es"),
    ("Quesería La Mancha", "es"),
    ("Turrones Alicantino", "es"),
    ("Quinta do Açude", "pt"),
    ("Conserveira Atlântico", "pt"),
    ("Pastelaria Belém", "pt"),
    ("Harrow & Finch", "uk"),
    ("Old Mill Bakery", "uk"),
    ("Highland Glen", "uk"),
    ("Green Orchard", "uk"),
    ("Chocolaterie Mériadeck", "be"),
    ("Brouwerij Sint-Rémy", "be"),
    ("Smørrebrød & Co", "dk"),
    ("Ærø Mejeri", "dk"),
    ("Nordisk Kaffe", "dk"),
)

Products = tuple[tuple[str, tuple[str, ...]], ...]  # (product, variants)

# category: (station or None, products with their variants, sizes)
CATEGORIES: dict[str, tuple[str | None, Products, tuple[str, ...]]] = {
    "Grill & Burgers": (
        "grill",
        (
            ("Burger", ("Classic", "Cheese", "Bacon", "Jalapeño", "Végétarien", "Double", "BBQ")),
            ("Chicken Wings", ("Hot", "Honey Mustard", "Piri-Piri", "Teriyaki")),
            ("Brochette", ("Poulet", "Agneau", "Halloumi", "Légumes")),
            ("Entrecôte", ("Sauce Béarnaise", "Sauce Poivre", "Beurre Maître d'Hôtel")),
            ("Saucisse grillée", ("Merguez", "Toulouse", "Bratwurst", "Chorizo")),
            ("Frites", ("Maison", "Patate Douce", "Cheddar", "Truffe")),
        ),
        ("", "(4)", "(8)", "250 g", "400 g"),
    ),
    "Salades & Bowls": (
        "cold",
        (
            ("Salade", ("César", "Grecque", "Niçoise", "Chèvre Chaud", "Caprese", "Waldorf")),
            ("Bowl", ("Quinoa", "Poké Saumon", "Açaí", "Falafel", "Boulgour")),
            ("Gaspacho", ("Andaluz", "Pastèque", "Concombre")),
            ("Taboulé", ("Libanais", "Menthe", "Épicé")),
        ),
        ("", "petit", "grand"),
    ),
    "Boissons chaudes": (
        "bar",
        (
            ("Café", ("Espresso", "Allongé", "Crème", "Noisette", "Décaféiné")),
            ("Cappuccino", ("", "Vanille", "Caramel", "Avoine")),
            ("Latte", ("Macchiato", "Chaï", "Matcha", "Curcuma")),
            ("Thé", ("Earl Grey", "Menthe", "Vert Sencha", "Rooibos", "Jasmin")),
            ("Chocolat chaud", ("Viennois", "Noir 70%", "Épicé")),
        ),
        ("", "small", "medium", "large"),
    ),
    "Boissons fraîches": (
        "bar",
        (
            ("Limonade", ("Citron", "Framboise", "Gingembre", "Sureau")),
            ("Jus", ("Orange pressée", "Pomme", "Ananas", "Carotte-Gingembre", "Grenade")),
            ("Thé glacé", ("Pêche", "Citron", "Hibiscus")),
            ("Eau", ("Plate", "Pétillante", "Gazeuse Citron")),
            ("Smoothie", ("Mangue", "Fruits Rouges", "Épinard-Kiwi")),
            ("Kombucha", ("Original", "Gingembre", "Framboise")),
        ),
        ("25 cl", "33 cl", "50 cl", "1 L", "1,5 L"),
    ),
    "Bières & Cidres": (
        "bar",
        (
            ("Bière", ("Blonde", "Blanche", "Ambrée", "IPA", "Stout", "Pils", "Weißbier")),
            ("Cidre", ("Brut", "Doux", "Rosé")),
        ),
        ("25 cl", "33 cl", "50 cl", "75 cl"),
    ),
    "Vins & Spiritueux": (
        "bar",
        (
            ("Vin rouge", ("Côtes du Rhône", "Rioja Crianza", "Chianti", "Douro", "Bordeaux")),
            ("Vin blanc", ("Chablis", "Albariño", "Grüner Veltliner", "Vinho Verde")),
            ("Vin rosé", ("Côtes de Provence", "Tavel")),
            ("Crémant", ("Brut", "Rosé")),
            ("Liqueur", ("Amaretto", "Limoncello", "Crème de Cassis", "Génépi")),
        ),
        ("verre", "37,5 cl", "75 cl", "150 cl"),
    ),
    "Crèmerie & Fromages": (
        None,
        (
            (
                "Fromage",
                (
                    "Comté 18 mois",
                    "Roquefort",
                    "Brie de Meaux",
                    "Manchego",
                    "Gruyère",
                    "Parmigiano Reggiano",
                    "Emmentaler",
                    "Gouda Vieux",
                    "Tête de Moine",
                ),
            ),
            ("Crème fraîche", ("Épaisse", "Légère", "d'Isigny")),
            ("Yaourt", ("Nature", "Fraise", "Vanille", "Grec", "Skyr")),
            ("Beurre", ("Doux", "Demi-sel", "Salé aux Cristaux")),
            ("Lait", ("Entier", "Demi-écrémé", "Avoine", "Amande")),
        ),
        ("125 g", "200 g", "250 g", "500 g", "1 kg", "1 L"),
    ),
    "Charcuterie": (
        None,
        (
            (
                "Jambon",
                ("Serrano", "Ibérico Bellota", "de Bayonne", "Cuit Supérieur", "Prosciutto"),
            ),
            ("Saucisson", ("Sec", "aux Noisettes", "de Montagne")),
            ("Chorizo", ("Doux", "Fort", "Ibérico")),
            ("Pâté", ("de Campagne", "en Croûte", "au Piment d'Espelette")),
            ("Rillettes", ("du Mans", "de Canard", "de Thon")),
        ),
        ("80 g", "100 g", "150 g", "250 g"),
    ),
    "Épicerie salée": (
        None,
        (
            ("Pâtes", ("Spaghetti", "Penne Rigate", "Tagliatelle", "Orecchiette", "Fusilli")),
            ("Conserve", ("Sardines à l'Huile", "Thon Albacore", "Pois Chiches", "Tomates Pelées")),
            ("Sauce", ("Pesto Genovese", "Arrabbiata", "Harissa", "Sriracha", "Béchamel")),
            ("Moutarde", ("de Dijon", "à l'Ancienne", "au Miel")),
            ("Chips", ("Sel de Guérande", "Paprika", "Jalapeño", "Vinaigre")),
            ("Riz", ("Basmati", "Arborio", "Bomba", "Complet")),
        ),
        ("125 g", "250 g", "500 g", "1 kg"),
    ),
    "Huiles & Vinaigres": (
        None,
        (
            ("Huile d'olive", ("Vierge Extra", "Arbequina", "Picual", "Kalamata", "au Citron")),
            ("Vinaigre", ("Balsamique de Modène", "de Xérès", "de Cidre", "à l'Estragon")),
            ("Huile", ("de Noix", "de Sésame Grillé", "de Colza Bio")),
        ),
        ("25 cl", "50 cl", "75 cl", "1 L"),
    ),
    "Épicerie sucrée": (
        None,
        (
            ("Chocolat", ("Noir 85%", "au Lait Noisettes", "Blanc Vanille", "Praliné")),
            ("Biscuits", ("Sablés Bretons", "Spéculoos", "Cantucci", "Shortbread")),
            ("Confiture", ("Fraise", "Abricot", "Figue", "Myrtille", "Orange Amère")),
            ("Miel", ("de Lavande", "d'Acacia", "de Châtaignier", "Toutes Fleurs")),
            ("Müsli", ("Croustillant", "Fruits Secs", "Chocolat", "Sans Sucre")),
            ("Turrón", ("de Jijona", "de Alicante", "Chocolate")),
            ("Café en grains", ("Arabica", "Moka d'Éthiopie", "Décaféiné", "Espresso")),
        ),
        ("100 g", "200 g", "250 g", "375 g", "500 g", "1 kg"),
    ),
    "Boulangerie & Pâtisserie": (
        "cold",
        (
            ("Croissant", ("au Beurre", "aux Amandes", "Jambon-Fromage")),
            ("Pain", ("de Campagne", "Complet", "aux Céréales", "Seigle", "Brioché")),
            ("Tarte", ("Tatin", "au Citron Meringuée", "aux Fraises", "Bourdaloue")),
            ("Crème brûlée", ("Vanille", "Pistache", "Café")),
            ("Éclair", ("Chocolat", "Café", "Caramel")),
            ("Pastel de nata", ("", "Canela")),
            ("Strudel", ("Pomme", "Cerise", "Quark")),
        ),
        ("", "(2)", "(4)", "(6)"),
    ),
    "Hygiène & Maison": (
        None,
        (
            ("Savon", ("de Marseille", "d'Alep", "Lavande", "Surgras")),
            ("Bougie", ("Figuier", "Ambre", "Vétiver")),
            ("Torchon", ("Lin", "Coton Bio", "Nid d'Abeille")),
            ("Mug", ("Logo", "Émaillé", "Grès")),
        ),
        ("", "x2", "x3"),
    ),
}


@dataclass(frozen=True, slots=True)
class SampleProduct:
    """One generated product, in the shape ``hub.catalog.edits.ProductInput`` takes."""

    name: str
    barcode: str
    default_code: str
    category: str
    station: str | None
    price: int  # minor units
    stock_tracked: bool
    qty: int | None


def ean13_check(body12: str) -> str:
    """The EAN-13 check digit of twelve digits (weights 1, 3, 1, 3, ...)."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body12))
    return str((10 - total % 10) % 10)


# Internal reference prefixes, one per category: "CHA-00042" is a charcuterie item.
_REF_PREFIX = {
    "Grill & Burgers": "GRL",
    "Salades & Bowls": "SAL",
    "Boissons chaudes": "BCH",
    "Boissons fraîches": "BFR",
    "Bières & Cidres": "BIE",
    "Vins & Spiritueux": "VIN",
    "Crèmerie & Fromages": "CRE",
    "Charcuterie": "CHA",
    "Épicerie salée": "EPS",
    "Huiles & Vinaigres": "HUI",
    "Épicerie sucrée": "EPU",
    "Boulangerie & Pâtisserie": "BOU",
    "Hygiène & Maison": "MAI",
}


# Dishes made on site carry no brand and come in few variants: a small share.
_MENU = frozenset({"Grill & Burgers", "Salades & Bowls", "Boulangerie & Pâtisserie"})
_EDITIONS = ("Bio", "Édition Limitée", "Recette Originale", "Format Familial", "Sans Gluten")

# Price ranges in minor units, by kind of item.
_PRICES = {"menu": (250, 2490), "bar": (150, 1290), "retail": (99, 4599)}


def _draw_name(rng: random.Random, category: str, seen: set[str]) -> tuple[str, int]:
    """A product name not yet used, and the index of its brand."""
    _, products, sizes = CATEGORIES[category]
    for attempt in range(20):
        product, variants = rng.choice(products)
        brand_index = rng.randrange(len(BRANDS))
        brand = "" if category in _MENU else BRANDS[brand_index][0]
        parts = [brand, product, rng.choice(variants), rng.choice(sizes)]
        if attempt >= 10:
            parts.insert(3, rng.choice(_EDITIONS))
        name = " ".join(p for p in parts if p)
        if name not in seen:
            seen.add(name)
            return name, brand_index
    return f"{name} n°{len(seen)}", brand_index


def generate(count: int, seed: int = 7) -> Iterator[SampleProduct]:
    """``count`` products, always the same ones for the same ``seed``."""
    rng = random.Random(seed)
    per_brand: dict[int, int] = {}
    per_category: dict[str, int] = {}
    seen: set[str] = set()
    categories = list(CATEGORIES)
    weights = [1 if c in _MENU else 6 for c in categories]
    for _ in range(count):
        category = rng.choices(categories, weights)[0]
        station = CATEGORIES[category][0]
        name, brand_index = _draw_name(rng, category, seen)
        country = BRANDS[brand_index][1]
        # The item number runs per brand, so barcodes never collide.
        item = per_brand.get(brand_index, 0) + 1
        per_brand[brand_index] = item
        seq = per_category.get(category, 0) + 1
        per_category[category] = seq
        body = f"{_GS1[country] + brand_index % 10:03d}{1000 + brand_index * 137:04d}{item:05d}"
        retail = station is None
        low, high = _PRICES["retail" if retail else "bar" if station == "bar" else "menu"]
        tracked = retail and rng.random() < 0.3
        yield SampleProduct(
            name=name,
            barcode=body + ean13_check(body),
            default_code=f"{_REF_PREFIX[category]}-{seq:05d}",
            category=category,
            station=station,
            price=rng.randrange(low, high, 10) if not retail else rng.randrange(low, high),
            stock_tracked=tracked,
            qty=rng.randrange(0, 60) if tracked else None,
        )
