"""The taxonomy's DSA mapping moves to the Transparency Database API v2 values (1 July 2025).

Stored categories and keywords the API no longer accepts are rewritten; harassment moves to the
new "cyber violence" category. Values are copied here (not imported) so the migration stays fixed.
"""

import django.contrib.postgres.indexes
from django.conf import settings
from django.db import migrations, models


CATEGORY_V1_TO_V2 = {
    "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS": "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
}
KEYWORD_V1_TO_V2 = {
    "KEYWORD_CYBERSTALKING": "KEYWORD_CYBER_STALKING",
    "KEYWORD_EATING_DISORDERS": "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS",
    "KEYWORD_VIOLENT_EXTREMISM": "KEYWORD_TERRORIST_CONTENT",
    "KEYWORD_DOXXING": "KEYWORD_OTHER",
    "KEYWORD_PRIVACY_VIOLATIONS": "KEYWORD_OTHER",
    "KEYWORD_FRAUD": "KEYWORD_OTHER",
    "KEYWORD_NON_CONSENSUAL_ITEMS_DEEPFAKE": "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
    "KEYWORD_ONLINE_BULLYING_INTIMIDATION": "KEYWORD_CYBER_BULLYING_INTIMIDATION",
    "KEYWORD_DISINFORMATION": "KEYWORD_MISINFORMATION_DISINFORMATION",
    "KEYWORD_MISINFORMATION": "KEYWORD_MISINFORMATION_DISINFORMATION",
    "KEYWORD_FOREIGN_INFORMATION_MANIPULATION": "KEYWORD_MISINFORMATION_DISINFORMATION",
    "KEYWORD_INSUFFICIENT_INFORMATION_TRADERS": "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS",
    "KEYWORD_IMAGE_BASED_SEXUAL_ABUSE": "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
    "KEYWORD_REGULATED_GOODS_SERVICES": "KEYWORD_PROHIBITED_PRODUCTS",
    "KEYWORD_DANGEROUS_TOYS": "KEYWORD_UNSAFE_PRODUCTS",
    "KEYWORD_GENDER_BASED_VIOLENCE": "KEYWORD_OTHER",
}
# The default taxonomy's harassment branch is cyber violence in v2 (it was "illegal speech").
HARASSMENT = {
    "harassment": ("STATEMENT_CATEGORY_CYBER_VIOLENCE", ""),
    "targeted-harassment": ("STATEMENT_CATEGORY_CYBER_VIOLENCE", "KEYWORD_CYBER_HARASSMENT"),
}


def forwards(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    for old, new in CATEGORY_V1_TO_V2.items():
        Category.objects.filter(dsa_category=old).update(dsa_category=new)
    for old, new in KEYWORD_V1_TO_V2.items():
        Category.objects.filter(dsa_keyword=old).update(dsa_keyword=new)
    for slug, (category, keyword) in HARASSMENT.items():
        Category.objects.filter(slug=slug).update(dsa_category=category, dsa_keyword=keyword)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0009_case_kind'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='category',
            name='dsa_category',
            field=models.CharField(choices=[('STATEMENT_CATEGORY_ANIMAL_WELFARE', 'Animal welfare'), ('STATEMENT_CATEGORY_CONSUMER_INFORMATION', 'Consumer information infringements'), ('STATEMENT_CATEGORY_CYBER_VIOLENCE', 'Cyber violence'), ('STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN', 'Cyber violence against women'), ('STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS', 'Data protection and privacy violations'), ('STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH', 'Illegal or harmful speech'), ('STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS', 'Intellectual property infringements'), ('STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS', 'Civic discourse or elections'), ('STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE', 'Not specified by the notifier'), ('STATEMENT_CATEGORY_OTHER_VIOLATION_TC', 'Other violation of the terms and conditions'), ('STATEMENT_CATEGORY_PROTECTION_OF_MINORS', 'Protection of minors'), ('STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY', 'Risk for public security'), ('STATEMENT_CATEGORY_SCAMS_AND_FRAUD', 'Scams and fraud'), ('STATEMENT_CATEGORY_SELF_HARM', 'Self-harm'), ('STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS', 'Unsafe, non-compliant or prohibited products'), ('STATEMENT_CATEGORY_VIOLENCE', 'Violence')], max_length=80),
        ),
        migrations.AlterField(
            model_name='category',
            name='dsa_keyword',
            field=models.CharField(blank=True, choices=[('KEYWORD_ADULT_SEXUAL_MATERIAL', 'Adult sexual material'), ('KEYWORD_AGE_SPECIFIC_RESTRICTIONS', 'Age specific restrictions'), ('KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS', 'Age specific restrictions minors'), ('KEYWORD_ANIMAL_HARM', 'Animal harm'), ('KEYWORD_BIOMETRIC_DATA_BREACH', 'Biometric data breach'), ('KEYWORD_BULLYING_AGAINST_GIRLS', 'Bullying against girls'), ('KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL', 'Child sexual abuse material'), ('KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE', 'Child sexual abuse material deepfake'), ('KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS', 'Content promoting eating disorders'), ('KEYWORD_COORDINATED_HARM', 'Coordinated harm'), ('KEYWORD_COPYRIGHT_INFRINGEMENT', 'Copyright infringement'), ('KEYWORD_CYBER_BULLYING_INTIMIDATION', 'Cyber bullying intimidation'), ('KEYWORD_CYBER_HARASSMENT', 'Cyber harassment'), ('KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN', 'Cyber harassment against women'), ('KEYWORD_CYBER_INCITEMENT', 'Cyber incitement'), ('KEYWORD_CYBER_STALKING', 'Cyber stalking'), ('KEYWORD_CYBER_STALKING_AGAINST_WOMEN', 'Cyber stalking against women'), ('KEYWORD_DATA_FALSIFICATION', 'Data falsification'), ('KEYWORD_DEFAMATION', 'Defamation'), ('KEYWORD_DESIGN_INFRINGEMENT', 'Design infringement'), ('KEYWORD_DISCRIMINATION', 'Discrimination'), ('KEYWORD_FEMALE_GENDERED_DISINFORMATION', 'Female gendered disinformation'), ('KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT', 'Geographic indications infringement'), ('KEYWORD_GEOGRAPHICAL_REQUIREMENTS', 'Geographical requirements'), ('KEYWORD_GOODS_SERVICES_NOT_PERMITTED', 'Goods services not permitted'), ('KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS', 'Grooming sexual enticement minors'), ('KEYWORD_HATE_SPEECH', 'Hate speech'), ('KEYWORD_HIDDEN_ADVERTISEMENT', 'Hidden advertisement'), ('KEYWORD_HUMAN_EXPLOITATION', 'Human exploitation'), ('KEYWORD_HUMAN_TRAFFICKING', 'Human trafficking'), ('KEYWORD_ILLEGAL_ORGANIZATIONS', 'Illegal organizations'), ('KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING', 'Impersonation account hijacking'), ('KEYWORD_INAUTHENTIC_ACCOUNTS', 'Inauthentic accounts'), ('KEYWORD_INAUTHENTIC_LISTINGS', 'Inauthentic listings'), ('KEYWORD_INAUTHENTIC_USER_REVIEWS', 'Inauthentic user reviews'), ('KEYWORD_INCITEMENT_AGAINST_WOMEN', 'Incitement against women'), ('KEYWORD_INCITEMENT_VIOLENCE_HATRED', 'Incitement violence hatred'), ('KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS', 'Insufficient information on traders'), ('KEYWORD_LANGUAGE_REQUIREMENTS', 'Language requirements'), ('KEYWORD_MISINFORMATION_DISINFORMATION', 'Misinformation disinformation'), ('KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS', 'Misleading info consumer rights'), ('KEYWORD_MISLEADING_INFO_GOODS_SERVICES', 'Misleading info goods services'), ('KEYWORD_MISSING_PROCESSING_GROUND', 'Missing processing ground'), ('KEYWORD_NON_CONSENSUAL_IMAGE_SHARING', 'Non consensual image sharing'), ('KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN', 'Non consensual image sharing against women'), ('KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE', 'Non consensual material deepfake'), ('KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN', 'Non consensual material deepfake against women'), ('KEYWORD_NONCOMPLIANCE_PRICING', 'Noncompliance pricing'), ('KEYWORD_NUDITY', 'Nudity'), ('KEYWORD_OTHER', 'Other'), ('KEYWORD_PATENT_INFRINGEMENT', 'Patent infringement'), ('KEYWORD_PHISHING', 'Phishing'), ('KEYWORD_PROHIBITED_PRODUCTS', 'Prohibited products'), ('KEYWORD_PYRAMID_SCHEMES', 'Pyramid schemes'), ('KEYWORD_RIGHT_TO_BE_FORGOTTEN', 'Right to be forgotten'), ('KEYWORD_RISK_ENVIRONMENTAL_DAMAGE', 'Risk environmental damage'), ('KEYWORD_RISK_PUBLIC_HEALTH', 'Risk public health'), ('KEYWORD_SELF_MUTILATION', 'Self mutilation'), ('KEYWORD_STALKING', 'Stalking'), ('KEYWORD_SUICIDE', 'Suicide'), ('KEYWORD_TERRORIST_CONTENT', 'Terrorist content'), ('KEYWORD_TRADE_SECRET_INFRINGEMENT', 'Trade secret infringement'), ('KEYWORD_TRADEMARK_INFRINGEMENT', 'Trademark infringement'), ('KEYWORD_TRAFFICKING_WOMEN_GIRLS', 'Trafficking women girls'), ('KEYWORD_UNLAWFUL_SALE_ANIMALS', 'Unlawful sale animals'), ('KEYWORD_UNSAFE_CHALLENGES', 'Unsafe challenges'), ('KEYWORD_UNSAFE_PRODUCTS', 'Unsafe products'), ('KEYWORD_VIOLATION_EU_LAW', 'Violation eu law'), ('KEYWORD_VIOLATION_NATIONAL_LAW', 'Violation national law')], help_text='DSA KEYWORD_* value, when one fits.', max_length=80),
        ),
        migrations.AddIndex(
            model_name='caseevent',
            index=django.contrib.postgres.indexes.BrinIndex(fields=['created_at'], name='caseevent_created_brin'),
        ),
        migrations.AddIndex(
            model_name='report',
            index=django.contrib.postgres.indexes.BrinIndex(fields=['received_at'], name='report_received_brin'),
        ),
    ]
